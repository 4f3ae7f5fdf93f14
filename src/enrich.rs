//! What the log names tell: account, region, and the ECS task, Elastic Beanstalk environment or
//! Lambda function behind a log group and stream.
//!
//! Computed once per payload ([`Enrichment::from_names`]), never per event; the ndjson encoder
//! writes it into every line of the payload.
//!
//! Recognised names (AWS naming conventions):
//! - ECS `awslogs` driver stream: `<awslogs-stream-prefix>/<container-name>/<ecs-task-id>`, where the
//!   task id is 32 hex digits (current task ARN format) or a UUID (older format). The prefix may
//!   itself contain `/`; the last two parts are the container and the task id.
//! - Elastic Beanstalk group: `/aws/elasticbeanstalk/<environment-name>/<log path>`, e.g.
//!   `/aws/elasticbeanstalk/prod-env/var/log/nginx/access.log` → environment `prod-env`, log path
//!   `/var/log/nginx/access.log`.
//! - Lambda group `/aws/lambda/<function-name>`, stream `YYYY/MM/DD/[<version>]<instance-id>`,
//!   e.g. `2024/01/01/[$LATEST]0123abcd` → version `$LATEST`.

use crate::json;

/// An ECS task container, from an `awslogs` stream name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EcsInfo<'a> {
    /// The container name.
    pub container: &'a str,
    /// The ECS task id.
    pub task_id: &'a str,
}

/// An Elastic Beanstalk environment log, from the log group name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BeanstalkInfo<'a> {
    /// The environment name.
    pub environment: &'a str,
    /// The log file path on the instance, with its leading `/`.
    pub log_path: &'a str,
}

/// A Lambda function, from the log group (and the version from the stream name).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LambdaInfo<'a> {
    /// The function name.
    pub function_name: &'a str,
    /// The function version (`$LATEST` or a number) when the stream name carries it.
    pub version: Option<&'a str>,
}

/// Everything the names of one payload tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Enrichment<'a> {
    /// The AWS account id (the payload `owner`) when it is a 12-digit id.
    pub account: Option<&'a str>,
    /// The AWS region the function runs in (passed in; payloads do not carry it).
    pub region: Option<&'a str>,
    /// Set when the stream name has the ECS `awslogs` shape.
    pub ecs: Option<EcsInfo<'a>>,
    /// Set for `/aws/elasticbeanstalk/...` log groups.
    pub elastic_beanstalk: Option<BeanstalkInfo<'a>>,
    /// Set for `/aws/lambda/...` log groups.
    pub lambda: Option<LambdaInfo<'a>>,
}

impl<'a> Enrichment<'a> {
    /// Derives the enrichment from a payload's owner, log group and log stream names.
    pub fn from_names(
        owner: &'a str,
        log_group: &'a str,
        log_stream: &'a str,
        region: Option<&'a str>,
    ) -> Self {
        let lambda = lambda_info(log_group, log_stream);
        Enrichment {
            account: (owner.len() == 12 && owner.bytes().all(|b| b.is_ascii_digit()))
                .then_some(owner),
            region: region.filter(|r| !r.is_empty()),
            // A Lambda stream name never has the ECS shape, but do not even try for Lambda groups.
            ecs: if lambda.is_some() {
                None
            } else {
                ecs_info(log_stream)
            },
            elastic_beanstalk: beanstalk_info(log_group),
            lambda,
        }
    }

    /// Writes the enrichment as JSON members, each preceded by a comma (`,"region":"..."` ...),
    /// to append to an object. Writes nothing when nothing is known. The account is not written:
    /// the ndjson lines already carry it as `owner`.
    pub fn write_json_members(&self, out: &mut Vec<u8>) {
        if let Some(r) = self.region {
            out.extend_from_slice(b",\"region\":");
            json::write_str(out, r);
        }
        if let Some(e) = &self.ecs {
            out.extend_from_slice(b",\"ecs\":{\"container\":");
            json::write_str(out, e.container);
            out.extend_from_slice(b",\"taskId\":");
            json::write_str(out, e.task_id);
            out.push(b'}');
        }
        if let Some(b) = &self.elastic_beanstalk {
            out.extend_from_slice(b",\"elasticBeanstalk\":{\"environment\":");
            json::write_str(out, b.environment);
            out.extend_from_slice(b",\"logPath\":");
            json::write_str(out, b.log_path);
            out.push(b'}');
        }
        if let Some(l) = &self.lambda {
            out.extend_from_slice(b",\"lambda\":{\"functionName\":");
            json::write_str(out, l.function_name);
            if let Some(v) = l.version {
                out.extend_from_slice(b",\"version\":");
                json::write_str(out, v);
            }
            out.push(b'}');
        }
    }
}

fn is_hex(s: &str) -> bool {
    s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// An ECS task id: 32 hex digits, or a UUID (8-4-4-4-12 hex digits).
fn is_task_id(s: &str) -> bool {
    match s.len() {
        32 => is_hex(s),
        36 => {
            let groups: Vec<&str> = s.split('-').collect();
            groups.len() == 5
                && groups
                    .iter()
                    .zip([8, 4, 4, 4, 12])
                    .all(|(g, n)| g.len() == n && is_hex(g))
        }
        _ => false,
    }
}

fn ecs_info(stream: &str) -> Option<EcsInfo<'_>> {
    let mut parts = stream.rsplitn(3, '/');
    let task_id = parts.next()?;
    let container = parts.next()?;
    let prefix = parts.next()?;
    (!prefix.is_empty() && !container.is_empty() && is_task_id(task_id))
        .then_some(EcsInfo { container, task_id })
}

fn beanstalk_info(group: &str) -> Option<BeanstalkInfo<'_>> {
    let rest = group.strip_prefix("/aws/elasticbeanstalk/")?;
    let slash = rest.find('/')?;
    let environment = &rest[..slash];
    let log_path = &rest[slash..];
    (!environment.is_empty() && log_path.len() > 1).then_some(BeanstalkInfo {
        environment,
        log_path,
    })
}

fn lambda_info<'a>(group: &'a str, stream: &'a str) -> Option<LambdaInfo<'a>> {
    let function_name = group.strip_prefix("/aws/lambda/")?;
    if function_name.is_empty() || function_name.contains('/') {
        return None;
    }
    Some(LambdaInfo {
        function_name,
        version: lambda_version(stream),
    })
}

/// `2024/01/01/[$LATEST]abc` → `$LATEST`; `2024/01/01/[12]abc` → `12`.
fn lambda_version(stream: &str) -> Option<&str> {
    let open = stream.find('[')?;
    let date = &stream[..open];
    let date_ok = date.len() == 11
        && date.bytes().enumerate().all(|(i, b)| {
            if i == 4 || i == 7 || i == 10 {
                b == b'/'
            } else {
                b.is_ascii_digit()
            }
        });
    if !date_ok {
        return None;
    }
    let rest = &stream[open + 1..];
    let close = rest.find(']')?;
    let version = &rest[..close];
    let ok = version == "$LATEST"
        || (!version.is_empty() && version.bytes().all(|b| b.is_ascii_digit()));
    ok.then_some(version)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json(e: &Enrichment<'_>) -> String {
        let mut v = Vec::new();
        e.write_json_members(&mut v);
        String::from_utf8(v).unwrap()
    }

    #[test]
    fn ecs_awslogs_stream() {
        let e = Enrichment::from_names(
            "123456789012",
            "/ecs/web",
            "web/nginx/0123456789abcdef0123456789abcdef",
            Some("eu-west-1"),
        );
        assert_eq!(e.account, Some("123456789012"));
        assert_eq!(
            e.ecs,
            Some(EcsInfo {
                container: "nginx",
                task_id: "0123456789abcdef0123456789abcdef"
            })
        );
        assert_eq!(
            json(&e),
            r#","region":"eu-west-1","ecs":{"container":"nginx","taskId":"0123456789abcdef0123456789abcdef"}"#
        );
    }

    #[test]
    fn ecs_uuid_task_id_and_prefix_with_slash() {
        let e = Enrichment::from_names(
            "1",
            "g",
            "team/web/app/5a1f2b3c-1234-4abc-9def-0123456789ab",
            None,
        );
        assert_eq!(e.account, None);
        assert_eq!(
            e.ecs,
            Some(EcsInfo {
                container: "app",
                task_id: "5a1f2b3c-1234-4abc-9def-0123456789ab"
            })
        );
    }

    #[test]
    fn not_ecs_when_shape_does_not_fit() {
        for stream in [
            "nginx/0123456789abcdef0123456789abcdef", // two parts only
            "web/nginx/not-a-task-id",
            "web/nginx/0123456789abcdef0123456789abcdeg", // g is not hex
            "/nginx/0123456789abcdef0123456789abcdef",    // empty prefix
            "i-0123456789abcdef0",
        ] {
            assert_eq!(
                Enrichment::from_names("1", "g", stream, None).ecs,
                None,
                "{stream}"
            );
        }
    }

    #[test]
    fn elastic_beanstalk_group() {
        let e = Enrichment::from_names(
            "1",
            "/aws/elasticbeanstalk/prod-env/var/log/nginx/access.log",
            "i-0abc",
            None,
        );
        assert_eq!(
            e.elastic_beanstalk,
            Some(BeanstalkInfo {
                environment: "prod-env",
                log_path: "/var/log/nginx/access.log"
            })
        );
        assert_eq!(
            json(&e),
            r#","elasticBeanstalk":{"environment":"prod-env","logPath":"/var/log/nginx/access.log"}"#
        );
        assert_eq!(
            Enrichment::from_names("1", "/aws/elasticbeanstalk/prod-env", "s", None)
                .elastic_beanstalk,
            None
        );
        assert_eq!(
            Enrichment::from_names("1", "/aws/elasticbeanstalk/prod-env/", "s", None)
                .elastic_beanstalk,
            None
        );
    }

    #[test]
    fn lambda_group_and_version() {
        let e = Enrichment::from_names(
            "123456789012",
            "/aws/lambda/orders",
            "2024/01/01/[$LATEST]0123abcd",
            Some("us-east-1"),
        );
        assert_eq!(
            e.lambda,
            Some(LambdaInfo {
                function_name: "orders",
                version: Some("$LATEST")
            })
        );
        assert_eq!(e.ecs, None);
        assert_eq!(
            json(&e),
            r#","region":"us-east-1","lambda":{"functionName":"orders","version":"$LATEST"}"#
        );
        let e = Enrichment::from_names("1", "/aws/lambda/orders", "2024/01/01/[42]0123abcd", None);
        assert_eq!(e.lambda.and_then(|l| l.version), Some("42"));
        let e = Enrichment::from_names("1", "/aws/lambda/orders", "custom-stream", None);
        assert_eq!(
            e.lambda,
            Some(LambdaInfo {
                function_name: "orders",
                version: None
            })
        );
        assert_eq!(
            Enrichment::from_names("1", "/aws/lambda/", "s", None).lambda,
            None
        );
    }

    #[test]
    fn nothing_known_writes_nothing() {
        let e = Enrichment::from_names("CloudwatchLogs", "", "", Some(""));
        assert_eq!(e, Enrichment::default());
        assert_eq!(json(&e), "");
    }
}
