//! `clouddb-job-operator simulate`: runs the provider simulator until interrupted. The
//! lead's CLI embeds [`SimulateArgs`] and calls [`run`].

use std::net::SocketAddr;
use std::path::PathBuf;

use super::faults::parse_flag;
use super::scenario::{ClockStart, Scenario};
use super::{SimConfig, SimCredentials, Simulator};

/// Arguments of the `simulate` subcommand.
#[derive(clap::Args, Clone, Debug)]
pub struct SimulateArgs {
    /// Address to listen on (loopback only; port 0 picks a free port).
    #[arg(long, default_value = "127.0.0.1:8086", env = "CLOUDDB_SIM_BIND")]
    pub bind: SocketAddr,
    /// Scenario YAML file; repeatable, loaded after the built-ins (same job IDs replace them).
    #[arg(long = "scenario", value_name = "FILE")]
    pub scenarios: Vec<PathBuf>,
    /// Serve only the given scenario files, not the built-ins.
    #[arg(long)]
    pub no_builtins: bool,
    /// Time compression: scenario seconds per real second (10 = ten times faster).
    #[arg(long, default_value_t = 1.0)]
    pub speed: f64,
    /// When job clocks start, for jobs that do not set it.
    #[arg(long, value_enum, default_value_t = ClockStart::Start)]
    pub clock: ClockStart,
    /// Global fault rule `KIND[=ARG][@TRIGGER,...]`, e.g. `503@3-5`, `reset@p=0.1`,
    /// `slow=20s@first=2`, `throttle@provider=huawei`, `unknown@job=15964,first=3`; repeatable.
    #[arg(long = "fault", value_name = "RULE")]
    pub faults: Vec<String>,
    /// Seed for probabilistic faults (same seed, same faults).
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// YAML file of accepted credentials (`tencent: [{id, secret}]`, `huawei: [{id, secret}]`,
    /// `huaweiTokens: [...]`), replacing the documented defaults.
    #[arg(long, value_name = "FILE")]
    pub credentials: Option<PathBuf>,
    /// How far the simulator's clock is ahead of the real one for signature checks, e.g.
    /// `20m` or `-20m`: plays an operator whose node clock is skewed (requests outside the
    /// providers' windows, 5 min for API 3.0, 2 h for API 2.0, 15 min for Huawei, fail).
    #[arg(long, value_name = "DURATION", allow_hyphen_values = true, value_parser = parse_skew)]
    pub clock_skew: Option<i64>,
    /// Lifetime of the Azure access tokens the token endpoint issues (`expires_in`), e.g.
    /// `30s` to watch clients refresh them.
    #[arg(long, value_name = "DURATION", default_value = "3599s", value_parser = parse_lifetime)]
    pub azure_token_lifetime: std::time::Duration,
    /// Lifetime of the access tokens the Google token endpoint issues, e.g. `90s` (default
    /// `1h`, as Google's): short ones exercise the operator's refresh before expiry.
    #[arg(long, value_name = "DURATION", value_parser = parse_lifetime)]
    pub gcp_token_lifetime: Option<std::time::Duration>,
    /// Print the jobs that would be served and exit.
    #[arg(long)]
    pub list: bool,
}

/// Builds the configuration the arguments describe (reads the scenario and credential files).
pub fn config_from_args(args: &SimulateArgs) -> Result<SimConfig, String> {
    if !(args.speed.is_finite() && args.speed > 0.0) {
        return Err(format!("--speed {} must be a positive number", args.speed));
    }
    let mut scenarios = if args.no_builtins {
        Vec::new()
    } else {
        Scenario::builtins()?
    };
    for path in &args.scenarios {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("scenario {}: {e}", path.display()))?;
        let mut scenario =
            Scenario::from_yaml(&text).map_err(|e| format!("scenario {}: {e}", path.display()))?;
        if scenario.name.is_empty() {
            scenario.name = path.display().to_string();
        }
        scenarios.push(scenario);
    }
    let faults = args
        .faults
        .iter()
        .map(|f| parse_flag(f))
        .collect::<Result<Vec<_>, _>>()?;
    let credentials = match &args.credentials {
        None => SimCredentials::default(),
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| format!("credentials {}: {e}", path.display()))?;
            // The error names the position, never the file's values.
            serde_norway::from_str(&text).map_err(|e| {
                format!(
                    "credentials {}: invalid ({})",
                    path.display(),
                    e.location()
                        .map_or("unknown position".into(), |l| format!("line {}", l.line()))
                )
            })?
        }
    };
    Ok(SimConfig {
        scenarios,
        speed: args.speed,
        clock: args.clock,
        faults,
        seed: args.seed,
        credentials,
        clock_skew_secs: args.clock_skew.unwrap_or(0),
        azure_token_lifetime: args.azure_token_lifetime,
        gcp_token_lifetime_secs: args
            .gcp_token_lifetime
            .map_or(crate::DEFAULT_GCP_TOKEN_LIFETIME_SECS, |d| d.as_secs()),
        ..SimConfig::empty()
    })
}

/// A signed duration in whole seconds: `20m`, `-1h30m`, `90s`.
fn parse_skew(s: &str) -> Result<i64, String> {
    let (sign, magnitude) = match s.strip_prefix('-') {
        Some(rest) => (-1, rest),
        None => (1, s.strip_prefix('+').unwrap_or(s)),
    };
    let d = clouddb_providers::duration::parse_duration(magnitude)?;
    i64::try_from(d.as_secs())
        .map(|secs| sign * secs)
        .map_err(|_| format!("clock skew {s:?} is too large"))
}

/// A positive token lifetime (at least one second).
fn parse_lifetime(s: &str) -> Result<std::time::Duration, String> {
    let d = clouddb_providers::duration::parse_duration(s)?;
    if d < std::time::Duration::from_secs(1) {
        return Err(format!("token lifetime {s:?} must be at least 1s"));
    }
    Ok(d)
}

/// One line per job: provider, API, job ID, instance.
pub fn job_table(config: &SimConfig) -> String {
    let mut out = String::new();
    for scenario in &config.scenarios {
        for job in scenario.resolved_jobs() {
            out.push_str(&format!(
                "{:<15} {:<25} {:<40} {}\n",
                job.provider.as_str(),
                job.api(),
                job.job_id,
                job.instance_id.as_deref().unwrap_or("-")
            ));
        }
    }
    out
}

/// Runs the simulator until Ctrl-C (or SIGTERM).
/// Serves until `shutdown` completes (the CLI passes its SIGTERM/Ctrl-C signal).
pub async fn run(
    args: SimulateArgs,
    shutdown: impl std::future::Future<Output = ()>,
) -> Result<(), String> {
    let config = config_from_args(&args)?;
    if args.list {
        print!("{}", job_table(&config));
        return Ok(());
    }
    let ids: Vec<String> = config
        .credentials
        .tencent
        .iter()
        .map(|k| format!("tencent SecretId {}", k.id))
        .chain(
            config
                .credentials
                .huawei
                .iter()
                .map(|k| format!("huawei AK {}", k.id)),
        )
        .collect();
    let sim = Simulator::start(args.bind, config)
        .await
        .map_err(|e| e.to_string())?;
    println!("provider simulator listening on {}", sim.url());
    println!(
        "accepting {} (secrets: see docs/simulator.md)",
        ids.join(", ")
    );
    println!(
        "control API: {}/_sim/requests, /_sim/jobs, /_sim/faults, /_sim/reset",
        sim.url()
    );
    shutdown.await;
    println!("stopping after {} requests", sim.request_count());
    sim.shutdown().await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        args: SimulateArgs,
    }

    #[test]
    fn parses_flags_into_a_config() {
        let cli = Cli::parse_from([
            "x",
            "--speed",
            "10",
            "--fault",
            "503@3-5",
            "--fault",
            "reset@p=0.5",
            "--clock",
            "first-request",
        ]);
        let config = config_from_args(&cli.args).unwrap();
        assert_eq!(config.speed, 10.0);
        assert_eq!(config.faults.len(), 2);
        assert_eq!(config.clock, ClockStart::FirstRequest);
        assert!(job_table(&config).contains("GetCdbRollbackJobTask"));
        let cli = Cli::parse_from(["x", "--no-builtins", "--speed", "0"]);
        assert!(config_from_args(&cli.args).is_err());
        let cli = Cli::parse_from(["x", "--fault", "explode"]);
        assert!(config_from_args(&cli.args).is_err());
        let cli = Cli::parse_from(["x", "--scenario", "/nonexistent/scenario.yaml"]);
        assert!(config_from_args(&cli.args).is_err());
    }

    #[test]
    fn gcp_token_lifetime_is_a_positive_duration() {
        let cli = Cli::try_parse_from(["sim", "--gcp-token-lifetime", "90s"]).unwrap();
        assert_eq!(
            config_from_args(&cli.args).unwrap().gcp_token_lifetime_secs,
            90
        );
        assert!(Cli::try_parse_from(["sim", "--gcp-token-lifetime", "0s"]).is_err());
        let none = Cli::try_parse_from(["sim"]).unwrap();
        assert_eq!(
            config_from_args(&none.args)
                .unwrap()
                .gcp_token_lifetime_secs,
            3600
        );
    }

    #[test]
    fn clock_skew_is_a_signed_duration() {
        let skew = |arg: &str| {
            let cli = Cli::try_parse_from(["x", "--clock-skew", arg]).map_err(|e| e.to_string())?;
            config_from_args(&cli.args).map(|c| c.clock_skew_secs)
        };
        assert_eq!(skew("20m"), Ok(1200));
        assert_eq!(skew("-1h30m"), Ok(-5400));
        assert_eq!(skew("+90s"), Ok(90));
        assert!(skew("soon").is_err());
        let none = Cli::parse_from(["x"]);
        assert_eq!(config_from_args(&none.args).unwrap().clock_skew_secs, 0);
    }

    #[test]
    fn azure_token_lifetime_defaults_to_entra_s_and_is_at_least_a_second() {
        let lifetime = |args: &[&str]| {
            let cli = Cli::try_parse_from(std::iter::once("x").chain(args.iter().copied()))
                .map_err(|e| e.to_string())?;
            config_from_args(&cli.args).map(|c| c.azure_token_lifetime.as_secs())
        };
        assert_eq!(lifetime(&[]), Ok(3599));
        assert_eq!(lifetime(&["--azure-token-lifetime", "30s"]), Ok(30));
        assert!(lifetime(&["--azure-token-lifetime", "0s"]).is_err());
    }
}
