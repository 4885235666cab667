"""Data contract names and namespaces of the wire models, for the XML codec and the OpenAPI
document: what ASP.NET's ``DataContractSerializer`` would call each Partner Center type."""

from __future__ import annotations

from dataclasses import dataclass

ARRAYS = "http://schemas.microsoft.com/2003/10/Serialization/Arrays"
DATACONTRACT = "http://schemas.datacontract.org/2004/07/"

CARTS_NS = "Microsoft.Partner.Services.Carts.V1.Models"
COLLECTIONS_NS = "Microsoft.Partner.Core.Collections"
CONTRACTS_NS = "Microsoft.Partner.Sdk.Contracts.V1"
ORDERS_NS = "Microsoft.Partner.Sdk.Contracts.V1.Contracts.Orders"
FAULTS_NS = "Microsoft.Marketplace.Services.Core"
GENERIC_NS = "System.Collections.Generic"


@dataclass(frozen=True, slots=True)
class Contract:
    """A data contract: the element name of a type and its CLR namespace."""

    name: str
    clr_namespace: str

    @property
    def namespace(self) -> str:
        return DATACONTRACT + self.clr_namespace


#: Contract per Python class name. Names and namespaces follow the swagger type names where
#: the reference has them; a class not listed is ``<ClassName>`` in :data:`CONTRACTS_NS`.
CONTRACTS: dict[str, Contract] = {
    "Cart": Contract("Cart", CARTS_NS),
    "CartLineItem": Contract("CartLineItem", CARTS_NS),
    "CartError": Contract("CartError", CARTS_NS),
    "Participant": Contract("Participant", CARTS_NS),
    "RenewsTo": Contract("RenewsTo", CARTS_NS),
    "Pricing": Contract("Pricing", CARTS_NS),
    "PurchaseCommitment": Contract("PurchaseCommitment", CARTS_NS),
    "Attributes": Contract("ResourceAttributes", COLLECTIONS_NS),
    "SelfLinks": Contract("ResourceLinks", COLLECTIONS_NS),
    "CollectionLinks": Contract("StandardResourceCollectionLinks", COLLECTIONS_NS),
    "Link": Contract("Link", COLLECTIONS_NS),
    "KeyValue": Contract("KeyValuePairOfstringstring", GENERIC_NS),
    # The create request's own type (billingProfile required) is a Customer on the wire.
    "NewCustomer": Contract("Customer", CONTRACTS_NS),
    "CustomerCollection": Contract("ResourceCollectionOfCustomer", COLLECTIONS_NS),
    # ResourceCollection<T> (reference §2, O3, O4 and O8), named as for customers.
    "OrderCollection": Contract("ResourceCollectionOfOrder", COLLECTIONS_NS),
    "SubscriptionCollection": Contract("ResourceCollectionOfSubscription", COLLECTIONS_NS),
    "ProvisioningStatusCollection": Contract(
        "ResourceCollectionOfOrderLineItemProvisioningStatus", COLLECTIONS_NS
    ),
    # The catalog lists (K1, K3, K5), likewise.
    "ProductCollection": Contract("ResourceCollectionOfProduct", COLLECTIONS_NS),
    "SkuCollection": Contract("ResourceCollectionOfSku", COLLECTIONS_NS),
    "AvailabilityCollection": Contract("ResourceCollectionOfAvailability", COLLECTIONS_NS),
    "ErrorBody": Contract("ServiceFault", FAULTS_NS),
    "ThrottleBody": Contract("ThrottleFault", FAULTS_NS),
    "Order": Contract("Order", CONTRACTS_NS),
    "OrderLineItem": Contract("OrderLineItem", CONTRACTS_NS),
    "CartCheckoutResult": Contract("CartCheckoutResult", ORDERS_NS),
    "OrderError": Contract("OrderError", ORDERS_NS),
}


def contract_of(cls: type) -> Contract:
    return CONTRACTS.get(cls.__name__) or Contract(cls.__name__, CONTRACTS_NS)
