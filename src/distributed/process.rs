//! The scheduler and executor processes: Ballista's, with geoframe's codecs and planner
//! registered (stock Ballista binaries cannot load geoframe's operator).

use std::net::{SocketAddr, TcpListener, ToSocketAddrs};
use std::path::PathBuf;
use std::sync::Arc;

use ballista::prelude::SessionConfigExt;
use ballista_executor::executor_process::{start_executor_process, ExecutorProcessConfig};
use ballista_scheduler::cluster::BallistaCluster;
use ballista_scheduler::config::SchedulerConfig;
use ballista_scheduler::scheduler_process::start_server;
use datafusion::prelude::SessionConfig;

use super::codec::{LogicalCodec, PhysicalCodec};
use super::planner::{aligned, scheduler_session};
use crate::error::{Error, Result};

/// How to run a scheduler.
#[derive(Debug, Clone)]
pub struct SchedulerOptions {
    /// Address to listen on, `host:port`.
    pub bind: String,
    /// Seconds without a heartbeat after which an executor counts as lost and its tasks
    /// are run elsewhere.
    pub executor_timeout_seconds: u64,
}

impl Default for SchedulerOptions {
    fn default() -> Self {
        SchedulerOptions {
            bind: "127.0.0.1:50050".into(),
            executor_timeout_seconds: 30,
        }
    }
}

/// How to run an executor.
#[derive(Debug, Clone)]
pub struct ExecutorOptions {
    /// The scheduler, `host:port`.
    pub scheduler: String,
    /// Tasks it runs at once.
    pub slots: usize,
    /// Host to listen on (and to tell the scheduler, unless `external_host` is set).
    pub bind_host: String,
    /// Host name other machines reach this executor by.
    pub external_host: Option<String>,
    /// Port of its data (Arrow Flight) service; 0 picks a free one.
    pub port: u16,
    /// Port of its task (gRPC) service; 0 picks a free one.
    pub grpc_port: u16,
    /// Where task results are kept until read; a temporary directory if `None`.
    pub work_dir: Option<PathBuf>,
    /// Seconds between heartbeats to the scheduler.
    pub heartbeat_seconds: u64,
}

impl Default for ExecutorOptions {
    fn default() -> Self {
        ExecutorOptions {
            scheduler: "127.0.0.1:50050".into(),
            slots: 1,
            bind_host: "127.0.0.1".into(),
            external_host: None,
            port: 0,
            grpc_port: 0,
            work_dir: None,
            heartbeat_seconds: 5,
        }
    }
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_stack_size(32 * 1024 * 1024)
        .build()
        .map_err(|e| Error::Cluster {
            url: String::new(),
            message: format!("cannot start a runtime: {e}"),
        })
}

fn ballista_error(url: &str) -> impl Fn(ballista_core::error::BallistaError) -> Error + '_ {
    move |e| Error::Cluster {
        url: url.to_string(),
        message: e.to_string(),
    }
}

/// Runs a scheduler until the process is stopped.
pub fn run_scheduler(options: &SchedulerOptions) -> Result<()> {
    let address: SocketAddr = options
        .bind
        .to_socket_addrs()
        .ok()
        .and_then(|mut a| a.next())
        .ok_or_else(|| {
            Error::InvalidArgument(format!("{:?}: not a host:port address", options.bind))
        })?;
    let mut config = SchedulerConfig {
        bind_host: address.ip().to_string(),
        bind_port: address.port(),
        external_host: address.ip().to_string(),
        executor_timeout_seconds: options.executor_timeout_seconds,
        expire_dead_executor_interval_seconds: options.executor_timeout_seconds.clamp(1, 15),
        no_executors_grace_period_seconds: options.executor_timeout_seconds,
        ..Default::default()
    };
    config.override_logical_codec = Some(Arc::new(LogicalCodec::default()));
    config.override_physical_codec = Some(Arc::new(PhysicalCodec::default()));
    config.override_session_builder = Some(Arc::new(scheduler_session));
    config.override_config_producer =
        Some(Arc::new(|| aligned(SessionConfig::new_with_ballista())));
    let url = format!("df://{address}");
    runtime()?.block_on(async {
        let cluster = BallistaCluster::new_from_config(&config)
            .await
            .map_err(ballista_error(&url))?;
        start_server(cluster, address, Arc::new(config))
            .await
            .map_err(ballista_error(&url))
    })
}

/// A port on `host` that is free now.
fn free_port(host: &str) -> Result<u16> {
    let listener = TcpListener::bind((host, 0)).map_err(|e| Error::Cluster {
        url: String::new(),
        message: format!("no free port on {host}: {e}"),
    })?;
    Ok(listener
        .local_addr()
        .map_err(|e| Error::Cluster {
            url: String::new(),
            message: format!("no free port on {host}: {e}"),
        })?
        .port())
}

/// Runs an executor until the process is stopped; it registers with the scheduler and
/// takes tasks of every job, including those already running.
pub fn run_executor(options: &ExecutorOptions) -> Result<()> {
    let (scheduler_host, scheduler_port) = options
        .scheduler
        .rsplit_once(':')
        .and_then(|(h, p)| Some((h.to_string(), p.parse::<u16>().ok()?)))
        .ok_or_else(|| {
            Error::InvalidArgument(format!(
                "{:?}: the scheduler is named host:port",
                options.scheduler
            ))
        })?;
    let port = match options.port {
        0 => free_port(&options.bind_host)?,
        p => p,
    };
    let grpc_port = match options.grpc_port {
        0 => free_port(&options.bind_host)?,
        p => p,
    };
    let mut config = ExecutorProcessConfig {
        bind_host: options.bind_host.clone(),
        external_host: Some(
            options
                .external_host
                .clone()
                .unwrap_or_else(|| options.bind_host.clone()),
        ),
        port,
        grpc_port,
        scheduler_host,
        scheduler_port,
        scheduler_connect_timeout_seconds: 30,
        vcores: options.slots.max(1),
        work_dir: options
            .work_dir
            .as_ref()
            .map(|d| d.to_string_lossy().into_owned()),
        executor_heartbeat_interval_seconds: options.heartbeat_seconds.max(1),
        ..Default::default()
    };
    config.override_logical_codec = Some(Arc::new(LogicalCodec::default()));
    config.override_physical_codec = Some(Arc::new(PhysicalCodec::default()));
    config.override_config_producer =
        Some(Arc::new(|| aligned(SessionConfig::new_with_ballista())));
    let url = format!("df://{}", options.scheduler);
    runtime()?.block_on(async {
        start_executor_process(Arc::new(config))
            .await
            .map_err(ballista_error(&url))
    })
}
