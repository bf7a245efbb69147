-- wrk: POST the JSON body kept in the file named after `--` on wrk's command line.
function init(args)
   local file = assert(io.open(args[1], "rb"))
   wrk.method = "POST"
   wrk.headers["Content-Type"] = "application/json"
   wrk.body = file:read("*a")
   file:close()
end
