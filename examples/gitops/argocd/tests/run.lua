-- Runs health.lua over every fixture in fixtures.lua with Lua 5.1 (Argo CD's dialect).
-- Usage: lua5.1 run.lua [path/to/health.lua]
-- Prints "ok <n> - <name>" or "not ok <n> - <name>: <why>" per fixture, then
-- "<passed> passed, <failed> failed"; exits 1 when any fixture fails.
local here = (arg[0]:match("^(.*)/[^/]*$") or ".")
local script = arg[1] or (here .. "/../health.lua")
local fixtures = dofile(here .. "/fixtures.lua")

local chunk, err = loadfile(script)
if chunk == nil then
  io.stderr:write("cannot load " .. script .. ": " .. tostring(err) .. "\n")
  os.exit(2)
end

local passed, failed = 0, 0
for i, f in ipairs(fixtures) do
  -- Fresh globals per run: Argo CD sets the global `obj` and expects a returned table.
  local env = setmetatable({ obj = f.obj }, { __index = _G })
  setfenv(chunk, env)
  local ok, hs = pcall(chunk)
  local why
  if not ok then
    why = "error: " .. tostring(hs)
  elseif type(hs) ~= "table" then
    why = "returned " .. type(hs) .. ", not a table"
  elseif hs.status ~= f.status then
    why = "status " .. tostring(hs.status) .. ", want " .. f.status
  elseif hs.message ~= f.message then
    why = "message " .. string.format("%q", tostring(hs.message)) .. ", want " .. string.format("%q", f.message)
  end
  if why == nil then
    passed = passed + 1
    print(string.format("ok %d - %s -> %s: %s", i, f.name, hs.status, hs.message))
  else
    failed = failed + 1
    print(string.format("not ok %d - %s: %s", i, f.name, why))
  end
end
print(string.format("%d passed, %d failed", passed, failed))
if failed > 0 or passed == 0 then
  os.exit(1)
end
