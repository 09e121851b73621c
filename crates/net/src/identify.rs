//! The identification follow-up: when a TCP target's exchange did not find the service it
//! expects, find out what answers there instead, within one probe timeout.
//!
//! The failed exchange's first bytes are classified first ([`classify`]): an HTTP status
//! line, an SSH banner or a TLS alert usually settles it without another packet. Otherwise
//! the steps of [`sequence`] run one after another, each on a fresh connection, each
//! given an equal share of what is left of the budget ([`step_budget_ms`]), so the whole
//! follow-up never takes longer than the budget (plus the scheduler's slack); the report
//! keeps each step's share and the time it took. The verdict stays `open`: this only
//! names the service.

use std::time::Duration;

use rdsports_schema::check::facts;
use rdsports_wire::Identification;
use rdsports_wire::identify::{Step, classify, first_bytes, first_bytes_text};
use rdsports_wire::identify::{sequence, step_budget_ms};
use serde_json::{Map, Value};
use tokio::net::TcpStream;
use tokio::time::{Instant, timeout_at};

use crate::conversation::{FirstConversation, converse};
use crate::model::{IdentificationReport, Identify, Observation, StepReport, Target, TlsMode};
use crate::socket::{millis, new_socket};
use crate::tls;

/// A service found, with its facts.
struct Found {
    service: String,
    detail: Map<String, Value>,
}

impl Found {
    fn from(id: Identification) -> Option<Found> {
        Some(Found {
            service: id.service?.to_owned(),
            detail: id.detail,
        })
    }
}

/// How one step ended.
enum Outcome {
    Found(Found),
    /// Bytes no exchange recognised: the first of them, and how many came.
    Bytes(Vec<u8>, usize),
    /// Nothing came back; the sentence says what happened.
    Nothing(String),
}

/// After the first conversation with `target`: runs the follow-up, within `budget`, when
/// it left `observation` without the service the target expects (a stand-in listener
/// counts as expected; so does TLS on a direct-TLS port whose inside was not the protocol).
pub(crate) async fn after_first(
    target: &Target,
    budget: Duration,
    first: &FirstConversation,
    observation: &mut Observation,
) {
    let Some(identify) = &target.identify else {
        return;
    };
    let answered = observation.service.as_deref();
    let expected = answered == Some(identify.expects) || answered == Some("rdsports-listener");
    // A TLS session whose inside was not the protocol: TLS is what answers.
    let spoke_tls = target.tls == TlsMode::Direct && answered == Some("tls");
    // An RDS web probe that met another web server inside TLS has already said what
    // answers (the status line and `Server`): a follow-up would only repeat it.
    let rds_web = matches!(
        identify.expects,
        rdsports_wire::rdg::RD_GATEWAY | rdsports_wire::rdg::RD_WEB_ACCESS
    );
    let web_answer = target.tls == TlsMode::Direct && rds_web && answered == Some("http");
    if !expected && !spoke_tls && !web_answer {
        Box::pin(follow_up(
            target,
            identify,
            budget,
            &first.tried,
            &first.head,
            first.received,
            observation,
        ))
        .await;
    }
}

/// Runs the follow-up for `target` after its exchange left `observation` without the
/// service `identify.expects`. `tried` are the steps the failed probe amounts to; `head`
/// and `received` are its first bytes and byte count.
async fn follow_up(
    target: &Target,
    identify: &Identify,
    budget: Duration,
    tried: &[Step],
    head: &[u8],
    received: usize,
    observation: &mut Observation,
) {
    let started = Instant::now();
    let deadline = started + budget;
    let mut report = IdentificationReport {
        identified: None,
        by: None,
        budget_ms: millis(budget),
        spent_ms: 0.0,
        steps: Vec::new(),
        first_bytes: None,
        first_bytes_text: None,
    };
    let mut seen: (Vec<u8>, usize) = (head.to_vec(), received);
    let hint = classify(head);
    let hint_service = hint.as_ref().and_then(|h| h.service);
    // A hint no step can add to (an SSH banner) settles it. A hint for the very protocol
    // just tried does too: its own codec has judged those bytes already, and what it said
    // (a WinRM probe that met a plain web server: `http`) stands.
    let hint_step = hint_service.map(Step::for_service);
    let mut found = None;
    let settled = match hint_step {
        Some(None) => {
            found = hint.clone().and_then(Found::from);
            true
        }
        Some(Some(step)) if tried.contains(&step) => {
            found = observation.service.clone().map(|service| Found {
                service,
                detail: Map::new(),
            });
            true
        }
        _ => false,
    };
    if settled {
        report.by = found.as_ref().map(|_| "first reply".to_owned());
    } else {
        let steps = sequence(tried, hint_service, identify.listener);
        for (i, &step) in steps.iter().enumerate() {
            let now = Instant::now();
            let remaining = deadline.saturating_duration_since(now);
            let remaining_ms = u64::try_from(remaining.as_millis()).unwrap_or(u64::MAX);
            let allotted = step_budget_ms(remaining_ms, steps.len() - i);
            if allotted == 0 {
                break;
            }
            let step_deadline = now + Duration::from_millis(allotted);
            let outcome = run_step(step, target, identify, step_deadline).await;
            let sentence = match &outcome {
                Outcome::Found(f) => format!("identified {}", f.service),
                Outcome::Bytes(_, n) => format!("{n} bytes, not {}", step.name()),
                Outcome::Nothing(why) => why.clone(),
            };
            report.steps.push(StepReport {
                step: step.name().to_owned(),
                start_ms: round(millis(now.saturating_duration_since(started))),
                allotted_ms: allotted as f64,
                spent_ms: round(millis(now.elapsed())),
                outcome: sentence,
            });
            match outcome {
                Outcome::Found(f) => {
                    found = Some(f);
                    report.by = Some(step.name().to_owned());
                    break;
                }
                Outcome::Bytes(bytes, n) if seen.0.is_empty() => seen = (bytes, n),
                Outcome::Bytes(..) | Outcome::Nothing(_) => {}
            }
        }
        // The hint still stands when its step could not add to it (a TLS alert to ours).
        if found.is_none() && hint_service.is_some() {
            found = hint.and_then(Found::from);
            report.by = Some("first reply".into());
        }
    }
    match found {
        Some(f) => {
            report.identified = Some(f.service.clone());
            observation.service = Some(f.service);
            observation.detail.extend(f.detail);
        }
        None if !seen.0.is_empty() => {
            report.identified = Some("unknown".into());
            report.first_bytes = Some(first_bytes(&seen.0));
            report.first_bytes_text = Some(first_bytes_text(&seen.0));
            observation.service = None;
            observation
                .detail
                .insert("reply_bytes".into(), seen.1.into());
        }
        None => observation.service = None,
    }
    report.spent_ms = round(millis(started.elapsed()));
    observation.identification = Some(Box::new(report));
}

/// One step on a fresh connection, ending by `deadline`.
async fn run_step(step: Step, target: &Target, identify: &Identify, deadline: Instant) -> Outcome {
    let stream = match connect(target, deadline).await {
        Ok(stream) => stream,
        Err(why) => return Outcome::Nothing(why),
    };
    let budget_ms = deadline
        .saturating_duration_since(Instant::now())
        .as_millis();
    if step == Step::Tls {
        let peer = target.address.ip();
        let name = target.server_name.as_deref();
        let handshake = tls::handshake(stream, name, peer, deadline).await;
        if handshake.spoke_tls {
            let mut detail = Map::new();
            detail.insert(facts::TLS.into(), handshake.detail.into());
            return Outcome::Found(Found {
                service: "tls".into(),
                detail,
            });
        }
        return Outcome::Nothing(handshake.note.unwrap_or_else(|| "no TLS".into()));
    }
    let Some(mut exchange) = (identify.steps)(step) else {
        return Outcome::Nothing("no probe for this step".into());
    };
    let mut stream = stream;
    let talk = converse(&mut stream, exchange.as_mut(), deadline).await;
    let head = talk.head.clone();
    let received = talk.received;
    let identification = talk.into_identification(budget_ms);
    let note = identification.note.clone();
    if let Some(found) = Found::from(identification) {
        return Outcome::Found(found);
    }
    if let Some(found) = classify(&head).and_then(Found::from) {
        return Outcome::Found(found);
    }
    if head.is_empty() {
        return Outcome::Nothing(note.unwrap_or_else(|| "no reply".to_owned()));
    }
    Outcome::Bytes(head, received)
}

async fn connect(target: &Target, deadline: Instant) -> Result<TcpStream, String> {
    let socket =
        new_socket(target.address, target.source).map_err(|error| format!("no socket: {error}"))?;
    match timeout_at(deadline, socket.connect(target.address)).await {
        Ok(Ok(stream)) => Ok(stream),
        Ok(Err(error)) => Err(format!("connect failed: {error}")),
        Err(_) => Err("no connection in time".into()),
    }
}

fn round(ms: f64) -> f64 {
    (ms * 100.0).round() / 100.0
}
