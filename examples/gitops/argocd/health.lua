-- Argo CD health check for clouddb.io/CloudDbJob (Lua 5.1, as Argo CD runs it).
-- Healthy when the job completed, Degraded when it failed or tracking stalled, Suspended while
-- spec.suspend stops polling, Progressing otherwise (and while the controller has not yet
-- observed the latest spec).
local hs = { status = "Progressing", message = "Waiting for the controller to report status" }

local function condition(status, ctype)
  if status.conditions == nil then
    return nil
  end
  for _, c in ipairs(status.conditions) do
    if c.type == ctype then
      return c
    end
  end
  return nil
end

local function is_true(c)
  return c ~= nil and c.status == "True"
end

local function nonempty(s)
  return s ~= nil and s ~= ""
end

-- "Running, 45%: Upgrading instance" from status.phase, status.progress and status.message;
-- the condition's message stands in when status.message is empty.
local function describe(status, c)
  local text = status.phase or "Pending"
  if type(status.progress) == "number" then
    text = text .. ", " .. tostring(math.floor(status.progress)) .. "%"
  end
  local detail = status.message
  if not nonempty(detail) and c ~= nil then
    detail = c.message
    if not nonempty(detail) then
      detail = c.reason
    end
  end
  if nonempty(detail) then
    text = text .. ": " .. detail
  end
  return text
end

if obj.status == nil then
  return hs
end
local status = obj.status

local generation = obj.metadata and obj.metadata.generation
if generation ~= nil and (status.observedGeneration == nil or status.observedGeneration < generation) then
  hs.message = "Waiting for the controller to observe generation " .. tostring(generation)
  return hs
end

local failed = condition(status, "Failed")
local stalled = condition(status, "Stalled")
local complete = condition(status, "Complete")
local reconciling = condition(status, "Reconciling")

if is_true(failed) then
  hs.status = "Degraded"
  hs.message = describe(status, failed)
elseif is_true(stalled) then
  hs.status = "Degraded"
  hs.message = describe(status, stalled)
elseif is_true(complete) then
  hs.status = "Healthy"
  hs.message = describe(status, complete)
elseif reconciling ~= nil and reconciling.status == "False" and reconciling.reason == "Suspended" then
  -- spec.suspend: not polled until resumed (Argo CD's own status for suspended resources).
  hs.status = "Suspended"
  hs.message = "Suspended at " .. describe(status, reconciling)
else
  hs.status = "Progressing"
  hs.message = describe(status, reconciling)
end
return hs
