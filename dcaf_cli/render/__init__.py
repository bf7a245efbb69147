"""Rich renderables for everything dcaf shows. Functions here build and return
renderables; they never print (the REPL and the commands do, in one place each)."""
