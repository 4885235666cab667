"""Route handlers: parse, call one service, render."""
