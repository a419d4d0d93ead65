-- A long-running Lua interpreter: each line written to the FIFO named by
-- arg[1] is compiled and run; the result (or the compile error) is printed.
local fifo = arg[1]
io.stdout:setvbuf("line")
print("ready")
while true do
  local f = assert(io.open(fifo, "r"))
  for line in f:lines() do
    local fn, err = load(line)
    if not fn then
      print("compile-error", err)
    else
      local ok, r = pcall(fn)
      print("result", ok, type(r), tostring(r))
    end
  end
  f:close()
end
