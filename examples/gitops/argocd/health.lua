-- Argo CD health check for clouddb.io/CloudDbJob and clouddb.io/CloudDbInstance (Lua 5.1, as
-- Argo CD runs it; argocd-cm registers this one script for both kinds).
-- CloudDbJob: Healthy when the job completed, Degraded when it failed or tracking stalled,
-- Suspended while spec.suspend stops polling, Progressing otherwise.
-- CloudDbInstance: Healthy when discovery works and nothing runs on the database (Ready and
-- Idle True), Degraded when discovery stalled, Progressing while a discovered job runs, while
-- a listing is retried, and before the first listing.
-- Both: Progressing while the controller has not yet observed the latest spec.
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

-- A discovered job as "6b9f4b5e-2a1d maintenance Running 40%".
local function active_job(j)
  local text = tostring(j.jobId)
  if nonempty(j.type) then
    text = text .. " " .. j.type
  end
  text = text .. " " .. tostring(j.phase or "Pending")
  if type(j.progress) == "number" then
    text = text .. " " .. tostring(math.floor(j.progress)) .. "%"
  end
  return text
end

-- "Reason: message", either part alone when the other is empty.
local function reason_message(c)
  if nonempty(c.reason) and nonempty(c.message) then
    return c.reason .. ": " .. c.message
  elseif nonempty(c.message) then
    return c.message
  end
  return c.reason or ""
end

local function instance_health(status)
  local stalled = condition(status, "Stalled")
  local ready = condition(status, "Ready")
  local idle = condition(status, "Idle")
  local reconciling = condition(status, "Reconciling")
  if is_true(stalled) then
    hs.status = "Degraded"
    hs.message = "Stalled: " .. reason_message(stalled)
  elseif idle ~= nil and idle.status == "False" then
    -- A discovered job is Pending or Running: the database is busy.
    local jobs = {}
    for _, j in ipairs(status.activeJobs or {}) do
      table.insert(jobs, active_job(j))
    end
    if #jobs > 0 then
      hs.message = "Busy, " .. tostring(#jobs) .. " active: " .. table.concat(jobs, ", ")
    else
      hs.message = "Busy: " .. (nonempty(idle.message) and idle.message or tostring(idle.reason))
    end
  elseif is_true(reconciling) then
    -- A listing failed and is retried; what was known is kept, but is not current.
    hs.message = "Retrying discovery: " .. reason_message(reconciling)
  elseif is_true(ready) and is_true(idle) then
    hs.status = "Healthy"
    hs.message = "Idle: " .. (nonempty(idle.message) and idle.message or tostring(idle.reason))
    local upcoming = status.upcomingMaintenance or {}
    if #upcoming > 0 then
      local m = upcoming[1]
      hs.message = hs.message .. "; maintenance " .. tostring(m.action)
      if nonempty(m.notBefore) then
        hs.message = hs.message .. " from " .. m.notBefore
      end
    end
  else
    hs.message = "Waiting for the first discovery"
    if ready ~= nil and nonempty(ready.message) then
      hs.message = hs.message .. ": " .. ready.message
    end
  end
  return hs
end

local function job_health(status)
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
end

if obj.kind == "CloudDbInstance" then
  return instance_health(status)
end
return job_health(status)
