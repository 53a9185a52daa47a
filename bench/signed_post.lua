-- wrk script for signed webhook POSTs (bench/webhooks.py P1). Arguments: <file> <threads>.
-- Each line of <file> is "<X-Hub-Signature-256>\t<body>"; thread i posts lines i, i+threads, ... in turn, so no
-- two threads send the same body (an identical body is a redelivery, a different code path).
local counter = 0
function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
end
function init(args)
  local path, nthreads = args[1], tonumber(args[2])
  requests, index = {}, 0
  local i = 0
  for line in io.lines(path) do
    if i % nthreads == id then
      local tab = line:find("\t", 1, true)
      table.insert(requests, wrk.format("POST", "/webhooks/whatsapp/", {
        ["Content-Type"] = "application/json", ["X-Hub-Signature-256"] = line:sub(1, tab - 1)}, line:sub(tab + 1)))
    end
    i = i + 1
  end
end
function request()
  index = index % #requests + 1
  return requests[index]
end
