//! `tally serve`: the admin API (`/admin/tenants`, the same router as the tenant-management
//! Lambda) and `POST /v1/events` on loopback, over the data directory. Admin requests need a
//! bearer token signed by the data directory's local key (`tally token`); onboarding and
//! offboarding run in process, the same steps the Step Functions state machines run in AWS.
//! Connections are served one at a time: a local tool, not a production server.

use std::convert::Infallible;
use std::io::BufReader;
use std::net::{IpAddr, SocketAddr};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use clap::Args;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tally_auth::{AuthConfig, LocalIssuer, Verifier};
use tally_runtime::pipeline::{DEFAULT_COMMIT_EVERY, IngestOptions};
use tally_schemas::TenantId;
use tenant_management::{Api, HttpRequest, HttpResponse, MAX_BODY_BYTES, Onboarding};

use crate::control::{LocalPlane, open};
use crate::token::AUTH_DIR;
use crate::{GlobalOptions, context};

/// The largest `POST /v1/events` body: the usage-ingest Lambda's limit.
const MAX_EVENTS_BODY_BYTES: usize = 5 * 1024 * 1024;

#[derive(Args)]
#[command(
    after_help = "Examples:\n  tally serve\n  tally serve --port 9000\n  curl -H \"Authorization: Bearer $(tally token)\" http://127.0.0.1:8787/admin/tenants\n  curl --data-binary @events.ndjson -H 'content-type: application/x-ndjson' http://127.0.0.1:8787/v1/events"
)]
/// Serve the admin API and POST /v1/events on loopback.
pub struct ServeArgs {
    /// The loopback address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    address: IpAddr,
    /// The port (0 picks a free one).
    #[arg(long, default_value_t = 8787)]
    port: u16,
}

type LocalApi = Api<
    tally_runtime::control::EmbeddedTenants,
    tally_runtime::control::BucketAudit<tally_runtime::embedded::LocalBucket>,
    <LocalPlane as PlaneParts>::Steps,
    tally_runtime::control::SystemClock,
    InProcess,
    Verifier,
>;

/// Names the step type of [`LocalPlane`] without repeating it.
trait PlaneParts {
    type Steps;
}

impl<T, L, P, C> PlaneParts for tally_tenancy::ControlPlane<T, L, P, C> {
    type Steps = P;
}

/// Onboarding and offboarding run to completion inside the request.
struct InProcess(Arc<LocalPlane>);

impl Onboarding for InProcess {
    async fn start(&self, tenant_id: &TenantId, actor: &str) -> tenant_management::Result<()> {
        self.0
            .onboard(tenant_id, actor)
            .await
            .map(drop)
            .map_err(|error| tenant_management::Error::workflow("onboarding", tenant_id, error))
    }

    async fn offboard(&self, tenant_id: &TenantId, actor: &str) -> tenant_management::Result<()> {
        self.0
            .offboard(tenant_id, actor)
            .await
            .map(drop)
            .map_err(|error| tenant_management::Error::workflow("offboarding", tenant_id, error))
    }
}

/// Serves until interrupted.
pub fn run(global: &GlobalOptions, args: &ServeArgs) -> Result<ExitCode> {
    if !args.address.is_loopback() {
        bail!(
            "--address {} is not a loopback address; tally serve listens on loopback only",
            args.address
        );
    }
    let plane = Arc::new(open(global)?);
    let issuer = LocalIssuer::load_or_create(&global.data_dir.join(AUTH_DIR))?;
    let api = LocalApi {
        control: plane.clone(),
        onboarding: InProcess(plane),
        auth: Verifier::new(issuer.key_set(), AuthConfig::local())?,
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .build()
        .context("starting the server's runtime")?;
    runtime.block_on(serve(
        global,
        &api,
        SocketAddr::new(args.address, args.port),
    ))
}

async fn serve(global: &GlobalOptions, api: &LocalApi, address: SocketAddr) -> Result<ExitCode> {
    let listener = tokio::net::TcpListener::bind(address)
        .await
        .with_context(|| format!("listening on {address}"))?;
    let bound = listener.local_addr()?;
    println!(
        "Tally serving on http://{bound}: /admin/tenants (bearer token: tally token), POST /v1/events"
    );
    loop {
        let (stream, _) = listener.accept().await.context("accepting a connection")?;
        let service = hyper::service::service_fn(|request| respond(global, api, request));
        let connection = hyper::server::conn::http1::Builder::new()
            .serve_connection(TokioIo::new(stream), service);
        if let Err(error) = connection.await {
            eprintln!("tally serve: connection: {error}");
        }
    }
}

async fn respond(
    global: &GlobalOptions,
    api: &LocalApi,
    request: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let target = request
        .uri()
        .path_and_query()
        .map_or("/", |target| target.as_str())
        .to_owned();
    let mut local = HttpRequest::new(request.method().as_str(), &target);
    for (name, value) in request.headers() {
        if let Ok(value) = value.to_str() {
            local = local.with_header(name.as_str(), value);
        }
    }
    let is_events = local.path == "/v1/events";
    let limit = if is_events {
        MAX_EVENTS_BODY_BYTES
    } else {
        MAX_BODY_BYTES
    };
    // One byte over the limit is read so that the handler can refuse the body as too large.
    local.body = match Limited::new(request.into_body(), limit + 1).collect().await {
        Ok(body) => body.to_bytes().to_vec(),
        Err(_) => vec![0; limit + 1],
    };
    let answer = if is_events {
        ingest(global, &local)
    } else {
        tenant_management::handle(api, local).await
    };
    Ok(to_hyper(answer))
}

/// `POST /v1/events` on the embedded default: the body's NDJSON lines through the pipeline,
/// answered with the ingest's summary (200 when every event counted, 207 otherwise).
fn ingest(global: &GlobalOptions, request: &HttpRequest) -> HttpResponse {
    if request.method != "POST" {
        return problem(405, "only POST is allowed on /v1/events").with_header("allow", "POST");
    }
    if request.body.len() > MAX_EVENTS_BODY_BYTES {
        return problem(413, "the body is larger than 5 MiB");
    }
    let now = tally_runtime::clock::now();
    let options = IngestOptions {
        source: format!("serve/{now}"),
        now,
        commit_every: DEFAULT_COMMIT_EVERY,
    };
    let outcome = context::open(global).and_then(|mut pipeline| {
        let summary = pipeline.ingest(
            BufReader::new(request.body.as_slice()),
            &options,
            &mut |_| {},
        )?;
        crate::control::check_quotas(global, &pipeline, now)?;
        Ok(summary)
    });
    match outcome {
        Ok(summary) => {
            let status = if summary.rejected_total() == 0 {
                200
            } else {
                207
            };
            let body = serde_json::to_vec_pretty(&summary).expect("a summary serializes");
            HttpResponse::new(status, "application/json", body)
        }
        Err(error) => {
            eprintln!("tally serve: POST /v1/events: {error:#}");
            problem(
                500,
                "the events could not be stored; nothing was counted, send them again",
            )
        }
    }
}

fn problem(status: u16, detail: &str) -> HttpResponse {
    let body = serde_json::json!({ "type": "about:blank", "status": status, "detail": detail });
    HttpResponse::new(
        status,
        "application/problem+json",
        body.to_string().into_bytes(),
    )
}

fn to_hyper(answer: HttpResponse) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(answer.body)));
    *response.status_mut() = hyper::StatusCode::from_u16(answer.status)
        .unwrap_or(hyper::StatusCode::INTERNAL_SERVER_ERROR);
    for (name, value) in answer.headers {
        if let (Ok(name), Ok(value)) = (
            hyper::header::HeaderName::from_bytes(name.as_bytes()),
            hyper::header::HeaderValue::from_str(&value),
        ) {
            response.headers_mut().append(name, value);
        }
    }
    response
}
