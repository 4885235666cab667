from partnercart.cli.main import main

main()
