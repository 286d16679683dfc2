-- CloudDbJob and CloudDbInstance objects as Argo CD hands them to health.lua, each with the
-- expected result.
local function cond(ctype, status, reason, message)
  return { type = ctype, status = status, reason = reason, message = message,
           lastTransitionTime = "2026-01-01T00:00:00Z", observedGeneration = 1 }
end

local function job(generation, status)
  return {
    apiVersion = "clouddb.io/v1alpha1",
    kind = "CloudDbJob",
    metadata = { name = "upgrade-cdb-pdn63pw5", namespace = "databases", generation = generation },
    spec = { provider = "tencent-legacy", api = "GetCdbUpgradeJobInfo", jobId = "47258",
             region = "ap-guangzhou", credentialsSecretRef = { name = "tencent" } },
    status = status,
  }
end

-- A CloudDbInstance; conditions as the controller writes them (src/controller/discovery).
local function instance(generation, status)
  return {
    apiVersion = "clouddb.io/v1alpha1",
    kind = "CloudDbInstance",
    metadata = { name = "orders", namespace = "databases", generation = generation },
    spec = { provider = "gcp", instanceId = "orders-db", projectId = "shop-prod",
             credentialsSecretRef = { name = "gcp" } },
    status = status,
  }
end

local listed = function(idle, extra)
  local conditions = {
    cond("Ready", "True", "Discovered", "the provider lists the instance's jobs"),
    cond("Reconciling", idle and "False" or "True", idle and "Discovered" or "JobsActive", ""),
    cond("Stalled", "False", "Discovered", ""),
    idle and cond("Idle", "True", "NoActiveJobs", "no discovered job is Pending or Running")
      or cond("Idle", "False", "JobsActive", "1 discovered job(s) active (1 Running): op-1"),
  }
  local status = { observedGeneration = 1, reason = "Discovered", conditions = conditions,
                   lastDiscoveryTime = "2026-01-01T00:00:00Z" }
  for k, v in pairs(extra or {}) do
    status[k] = v
  end
  return status
end

return {
  {
    name = "no status yet",
    obj = job(1, nil),
    status = "Progressing",
    message = "Waiting for the controller to report status",
  },
  {
    -- What the apiserver serves from the moment a CloudDbJob is created until the operator's
    -- first write: the CRD's default status.
    name = "just created, as the apiserver serves it (the CRD's default status)",
    obj = job(1, { observedGeneration = 0 }),
    status = "Progressing",
    message = "Waiting for the controller to observe generation 1",
  },
  {
    name = "pending, not yet visible at the provider",
    obj = job(1, { observedGeneration = 1, phase = "Pending", conditions = {
      cond("Ready", "False", "Pending", "waiting for the job to appear"),
      cond("Reconciling", "True", "Pending", "waiting for the job to appear"),
      cond("Complete", "False", "Pending", ""), cond("Failed", "False", "Pending", ""),
      cond("Stalled", "False", "Pending", "") } }),
    status = "Progressing",
    message = "Pending: waiting for the job to appear",
  },
  {
    name = "running with progress and message",
    obj = job(1, { observedGeneration = 1, phase = "Running", progress = 45,
      message = "Upgrading instance cdb-pdn63pw5", conditions = {
      cond("Ready", "False", "Running", ""), cond("Reconciling", "True", "Running", ""),
      cond("Complete", "False", "Running", ""), cond("Failed", "False", "Running", ""),
      cond("Stalled", "False", "Running", "") } }),
    status = "Progressing",
    message = "Running, 45%: Upgrading instance cdb-pdn63pw5",
  },
  {
    name = "running without conditions or message",
    obj = job(1, { observedGeneration = 1, phase = "Running", progress = 10 }),
    status = "Progressing",
    message = "Running, 10%",
  },
  {
    name = "succeeded",
    obj = job(1, { observedGeneration = 1, phase = "Succeeded", progress = 100,
      message = "Upgrade finished", conditions = {
      cond("Ready", "True", "Succeeded", ""), cond("Reconciling", "False", "Succeeded", ""),
      cond("Complete", "True", "Succeeded", "job finished"), cond("Failed", "False", "Succeeded", ""),
      cond("Stalled", "False", "Succeeded", "") } }),
    status = "Healthy",
    message = "Succeeded, 100%: Upgrade finished",
  },
  {
    name = "succeeded, message from the Complete condition",
    obj = job(3, { observedGeneration = 3, phase = "Succeeded", progress = 100, conditions = {
      cond("Complete", "True", "Succeeded", "job 47258 finished") } }),
    status = "Healthy",
    message = "Succeeded, 100%: job 47258 finished",
  },
  {
    name = "failed at the provider",
    obj = job(1, { observedGeneration = 1, phase = "Failed", progress = 0,
      message = "dial tcp :0: connection refused", reason = "JobFailed", conditions = {
      cond("Ready", "False", "JobFailed", ""), cond("Complete", "False", "JobFailed", ""),
      cond("Failed", "True", "JobFailed", "the provider reports the job failed"),
      cond("Stalled", "True", "JobFailed", "") } }),
    status = "Degraded",
    message = "Failed, 0%: dial tcp :0: connection refused",
  },
  {
    name = "suspended while running (spec.suspend)",
    obj = job(2, { observedGeneration = 2, phase = "Running", progress = 40, reason = "Suspended",
      message = "Upgrading instance cdb-pdn63pw5", conditions = {
      cond("Ready", "False", "Suspended", ""),
      cond("Reconciling", "False", "Suspended", "polling is suspended (spec.suspend is true)"),
      cond("Complete", "False", "Running", ""), cond("Failed", "False", "NotFailed", ""),
      cond("Stalled", "False", "NotStalled", "") } }),
    status = "Suspended",
    message = "Suspended at Running, 40%: Upgrading instance cdb-pdn63pw5",
  },
  {
    name = "failed, reason only",
    obj = job(1, { observedGeneration = 1, phase = "Failed", conditions = {
      cond("Failed", "True", "TrackingTimeout", "") } }),
    status = "Degraded",
    message = "Failed: TrackingTimeout",
  },
  {
    name = "stalled on a configuration error while pending",
    obj = job(1, { observedGeneration = 1, phase = "Pending", reason = "AuthenticationFailed",
      conditions = {
      cond("Reconciling", "True", "AuthenticationFailed", ""),
      cond("Complete", "False", "AuthenticationFailed", ""),
      cond("Failed", "False", "AuthenticationFailed", ""),
      cond("Stalled", "True", "AuthenticationFailed", "credentials were rejected (AuthFailure.SignatureFailure)") } }),
    status = "Degraded",
    message = "Pending: credentials were rejected (AuthFailure.SignatureFailure)",
  },
  {
    name = "spec changed, controller has not caught up (even though it had completed)",
    obj = job(2, { observedGeneration = 1, phase = "Succeeded", progress = 100, conditions = {
      cond("Complete", "True", "Succeeded", "") } }),
    status = "Progressing",
    message = "Waiting for the controller to observe generation 2",
  },
  {
    name = "no observedGeneration yet",
    obj = job(1, { phase = "Running" }),
    status = "Progressing",
    message = "Waiting for the controller to observe generation 1",
  },
  {
    name = "conditions present but Unknown",
    obj = job(1, { observedGeneration = 1, conditions = {
      cond("Complete", "Unknown", "Polling", ""), cond("Failed", "Unknown", "Polling", "") } }),
    status = "Progressing",
    message = "Pending",
  },
  -- CloudDbInstance: the same script, registered for the second kind.
  {
    name = "instance: just created, as the apiserver serves it (the CRD's default status)",
    obj = instance(1, { observedGeneration = 0 }),
    status = "Progressing",
    message = "Waiting for the controller to observe generation 1",
  },
  {
    name = "instance: no status yet",
    obj = instance(1, nil),
    status = "Progressing",
    message = "Waiting for the controller to report status",
  },
  {
    name = "instance: observed, first listing not done (Idle Unknown)",
    obj = instance(1, { observedGeneration = 1, conditions = {
      cond("Ready", "Unknown", "NotDiscovered", ""),
      cond("Idle", "Unknown", "NotDiscovered", "") } }),
    status = "Progressing",
    message = "Waiting for the first discovery",
  },
  {
    name = "instance: idle",
    obj = instance(1, listed(true, { activeJobCount = 0 })),
    status = "Healthy",
    message = "Idle: no discovered job is Pending or Running",
  },
  {
    name = "instance: idle, maintenance announced",
    obj = instance(1, listed(true, { upcomingMaintenance = {
      { action = "db-upgrade", description = "Minor version upgrade",
        notBefore = "2026-01-04T00:00:00Z", forcedAfter = "2026-01-31T00:00:00Z" } } })),
    status = "Healthy",
    message = "Idle: no discovered job is Pending or Running; maintenance db-upgrade from 2026-01-04T00:00:00Z",
  },
  {
    name = "instance: busy, a discovered job runs",
    obj = instance(1, listed(false, { activeJobCount = 2, activeJobs = {
      { name = "orders-op-1-x1", jobId = "op-1", type = "maintenance", phase = "Running", progress = 40 },
      { jobId = "op-2", phase = "Pending" } } })),
    status = "Progressing",
    message = "Busy, 2 active: op-1 maintenance Running 40%, op-2 Pending",
  },
  {
    name = "instance: busy, no activeJobs list (Idle's message)",
    obj = instance(1, listed(false)),
    status = "Progressing",
    message = "Busy: 1 discovered job(s) active (1 Running): op-1",
  },
  {
    name = "instance: listing retried after a provider error, last known Idle kept",
    obj = instance(1, { observedGeneration = 1, reason = "Throttled", consecutiveErrors = 2,
      conditions = {
      cond("Ready", "True", "Discovered", ""),
      cond("Reconciling", "True", "Throttled", "rate limit exceeded"),
      cond("Stalled", "False", "Throttled", ""),
      cond("Idle", "True", "NoActiveJobs", "no discovered job is Pending or Running") } }),
    status = "Progressing",
    message = "Retrying discovery: Throttled: rate limit exceeded",
  },
  {
    name = "instance: stalled, unknown instance",
    obj = instance(1, { observedGeneration = 1, reason = "InstanceNotFound", conditions = {
      cond("Ready", "False", "InstanceNotFound", "The Cloud SQL instance orders-db does not exist."),
      cond("Reconciling", "False", "InstanceNotFound", ""),
      cond("Stalled", "True", "InstanceNotFound", "The Cloud SQL instance orders-db does not exist."),
      cond("Idle", "Unknown", "NotDiscovered", "discovery failed; see Stalled") } }),
    status = "Degraded",
    message = "Stalled: InstanceNotFound: The Cloud SQL instance orders-db does not exist.",
  },
  {
    name = "instance: spec changed, controller has not caught up (even though it was idle)",
    obj = instance(2, listed(true)),
    status = "Progressing",
    message = "Waiting for the controller to observe generation 2",
  },
}
