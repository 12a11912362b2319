//! What each kind of node does when a run reaches it: from its parameters and the message
//! it received to its output (and, for a `choice`, the branch to follow).

use std::time::{Duration, Instant};

use serde_json::{Map, Value as Json, json};
use weir_kernel::{Id, TenantId};

use super::choice::{pick_branch, short};
use super::ports::{Email, Encryption, NodeError, SmtpServer, WebhookRequest};
use super::refs::Scope;
use super::{EnginePorts, NodeKind};
use crate::components::names;

/// What a node produced.
pub(super) struct Step {
    /// Its output: what later nodes refer to, and the message the next node receives.
    pub output: Json,
    /// For a `choice`, the branch the run follows.
    pub branch: Option<String>,
    /// What the trace shows as the node's output, when not `output` itself.
    pub traced: Option<Json>,
}

impl Step {
    fn output(output: Json) -> Self {
        Self {
            output,
            branch: None,
            traced: None,
        }
    }
}

/// Everything a node run needs.
pub(super) struct NodeRun<'a> {
    pub tenant: &'a TenantId,
    /// The flows whose runs led to this one, this run's flow last (see [`super::Entities`]).
    pub chain: &'a [Id],
    pub kind: NodeKind,
    pub parameters: &'a Map<String, Json>,
    pub scope: Scope<'a>,
    pub deadline: Instant,
    pub ports: &'a EnginePorts,
}

impl NodeRun<'_> {
    fn remaining(&self) -> Duration {
        self.deadline.saturating_duration_since(Instant::now())
    }

    fn message(&self) -> Json {
        Json::Object(self.scope.message.clone())
    }

    fn param(&self, name: &str) -> &Json {
        self.parameters.get(name).unwrap_or(&Json::Null)
    }

    pub fn run(&self) -> Result<Step, NodeError> {
        match self.kind {
            NodeKind::Entry => Ok(Step::output(self.message())),
            NodeKind::Choice => {
                let branch = pick_branch(
                    self.parameters,
                    &self.scope,
                    &*self.ports.scripts,
                    self.deadline,
                )?;
                Ok(Step {
                    output: self.message(),
                    traced: Some(json!({ "branch": branch })),
                    branch: Some(branch),
                })
            }
            NodeKind::Other(name) => self.action(name),
        }
    }

    fn action(&self, name: &str) -> Result<Step, NodeError> {
        match name {
            names::ENTITY_SELECTOR => {
                let keys: Vec<String> = strings(self.param("entities"));
                let values = self.ports.entities.latest(self.tenant, &keys)?;
                Ok(Step::output(Json::Object(values)))
            }
            names::ENTITY_ASSIGNER => {
                let values = self
                    .scope
                    .resolve_map(self.param("exchangePayload").as_object());
                self.ports
                    .entities
                    .assign(self.tenant, self.chain, &values)?;
                Ok(Step::output(Json::Object(values)))
            }
            names::SERVICE_INVOCATION => {
                let setting = self.param("serviceInvocationSetting");
                let service = setting["serviceEntity"].as_str().unwrap_or_default();
                let params = self.scope.resolve_map(setting["serviceParams"].as_object());
                let result =
                    self.ports
                        .entities
                        .invoke(self.tenant, self.chain, service, &params)?;
                Ok(Step::output(as_object(result)))
            }
            names::CODE => self.code(),
            names::WEBHOOK => self.webhook(),
            names::EMAIL => self.email(),
            names::OUTPUT => {
                let variables = self.param("outputVariables").as_object();
                Ok(Step::output(match variables {
                    Some(v) if !v.is_empty() => Json::Object(self.scope.resolve_map(Some(v))),
                    _ => self.message(),
                }))
            }
            other => Err(NodeError(format!("the engine cannot run `{other}` nodes"))),
        }
    }

    /// The script sees the message's members and the input arguments (which win) as
    /// variables, and console references in its text as variables too (see
    /// [`Scope::script_references`]); what it answers is the node's output (a non-object
    /// under `result`).
    fn code(&self) -> Result<Step, NodeError> {
        let expression = self.param("expression");
        let language = expression["language"].as_str().unwrap_or_default();
        let script = expression["expression"].as_str().unwrap_or_default();
        let (script, references) = self.scope.script_references(script);
        let mut variables = self.scope.message.clone();
        variables.extend(
            self.scope
                .resolve_map(self.param("inputArguments").as_object()),
        );
        variables.extend(references);
        let answer = self
            .ports
            .scripts
            .run(language, &script, &variables, self.deadline)?;
        Ok(Step::output(as_object(answer)))
    }

    fn webhook(&self) -> Result<Step, NodeError> {
        let arguments = self.param("inputArguments").as_object();
        let body = match arguments {
            Some(a) if !a.is_empty() => Json::Object(self.scope.resolve_map(Some(a))),
            _ => self.message(),
        };
        let seconds = whole_number(self.param("timeoutSeconds")).unwrap_or(10);
        let request = WebhookRequest {
            url: self.param("webhookUrl").as_str().unwrap_or_default().into(),
            body,
            secret_key: self
                .param("secretKey")
                .as_str()
                .filter(|k| !k.is_empty())
                .map(Into::into),
            timeout: Duration::from_secs(seconds).min(self.remaining()),
        };
        let response = self.ports.webhooks.post(&request)?;
        let body = serde_json::from_str(&response.body).unwrap_or(Json::String(response.body));
        Ok(Step::output(
            json!({"statusCode": response.status, "body": body}),
        ))
    }

    fn email(&self) -> Result<Step, NodeError> {
        let config = self.param("emailConfig");
        let server = if config["useSystemSettings"].as_bool() == Some(true) {
            None
        } else {
            Some(smtp_server(&config["smtpConfig"])?)
        };
        let text = |name: &str| match self.scope.resolve(self.param(name)) {
            Json::String(s) => s,
            Json::Null => String::new(),
            other => other.to_string(),
        };
        let email = Email {
            recipients: strings(self.param("recipients")),
            subject: text("subject"),
            content: text("content"),
        };
        self.ports
            .mailer
            .send(server.as_ref(), &email, self.remaining())?;
        Ok(Step::output(
            json!({"recipients": email.recipients, "subject": email.subject}),
        ))
    }
}

/// A whole number given as a number or as text: the console's text fields send numbers as
/// strings (`"timeoutSeconds": "5"`), and validation accepts both.
fn whole_number(value: &Json) -> Option<u64> {
    value
        .as_u64()
        .or_else(|| value.as_str().and_then(|s| s.trim().parse().ok()))
}

fn smtp_server(config: &Json) -> Result<SmtpServer, NodeError> {
    let port = whole_number(&config["port"])
        .and_then(|p| u16::try_from(p).ok())
        .ok_or_else(|| NodeError::new("smtpConfig.port must be a port number"))?;
    let optional = |name: &str| {
        config[name]
            .as_str()
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };
    Ok(SmtpServer {
        host: config["host"].as_str().unwrap_or_default().into(),
        port,
        encryption: match config["encryption"].as_str() {
            Some("TLS") => Encryption::Tls,
            Some("STARTTLS") => Encryption::StartTls,
            _ => Encryption::None,
        },
        username: optional("username"),
        password: optional("password"),
    })
}

fn strings(v: &Json) -> Vec<String> {
    v.as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| s.as_str().map(str::to_owned))
        .collect()
}

/// An object as it is; anything else as `{"result": value}`, so later nodes can refer to it.
fn as_object(v: Json) -> Json {
    match v {
        Json::Object(_) => v,
        other => json!({ "result": other }),
    }
}

/// Checks a `trigger`'s input against the values it declares: required ones present, each
/// of its type. Undeclared members pass through.
pub(super) fn check_trigger_input(
    parameters: &Map<String, Json>,
    input: &Map<String, Json>,
) -> Result<(), NodeError> {
    let declared = parameters
        .get("entityConfigs")
        .and_then(Json::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[]);
    for config in declared {
        let name = config["identify"].as_str().unwrap_or_default();
        let value = input.get(name).filter(|v| !v.is_null());
        let Some(value) = value else {
            if config["required"].as_bool() == Some(true) {
                return Err(NodeError(format!("input `{name}` is required")));
            }
            continue;
        };
        let fits = match config["type"].as_str() {
            Some("STRING") => value.is_string(),
            Some("LONG") => value.is_i64() || value.is_u64(),
            Some("DOUBLE") => value.is_number(),
            Some("BOOLEAN") => value.is_boolean(),
            _ => true,
        };
        if !fits {
            return Err(NodeError(format!(
                "input `{name}` must be a {}, got {}",
                config["type"].as_str().unwrap_or_default(),
                short(value)
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::whole_number;

    #[test]
    fn whole_numbers_come_as_numbers_or_as_text() {
        assert_eq!(whole_number(&json!(5)), Some(5));
        assert_eq!(whole_number(&json!("5")), Some(5));
        assert_eq!(whole_number(&json!(" 30 ")), Some(30));
        assert_eq!(whole_number(&json!("")), None);
        assert_eq!(whole_number(&json!("-1")), None);
        assert_eq!(whole_number(&json!(1.5)), None);
        assert_eq!(whole_number(&json!(null)), None);
    }
}
