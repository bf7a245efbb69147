"""A small stand-in for the real DCAF package, for tests: shaped like DCAF's public
`Agent`, `Tool`, `tool` and `serve` (names, arguments, attributes, defaults), with none of
its machinery. `serve` stops the process, so a test fails loudly if loading a file
starts it."""
