//! The shape of an instance on a swarm, both ways: an [`InstanceSpec`] as a one-replica
//! service, and a service with its newest task as an [`Observed`] instance. Pure functions,
//! tested without an engine.

use crate::engine::{CellReport, ContainerId, ContainerState, InstanceSpec, Observed, Placement};
use bollard::models::{
    EndpointPortConfig, EndpointPortConfigProtocolEnum, EndpointPortConfigPublishModeEnum,
    EndpointSpec, Limit, Mount, MountType, Node, NodeSpecAvailabilityEnum, NodeState, Service,
    ServiceSpec, ServiceSpecMode, ServiceSpecModeReplicated, Task, TaskSpec, TaskSpecContainerSpec,
    TaskSpecPlacement, TaskSpecResources, TaskSpecRestartPolicy,
    TaskSpecRestartPolicyConditionEnum, TaskState,
};
use std::collections::{BTreeMap, HashMap};
use std::net::{IpAddr, Ipv4Addr};
use std::time::{Duration, SystemTime};

/// A node label that names the address a cell's published ports answer on, for a machine
/// whose address as the manager sees it is not the one to route to (several addresses, NAT).
pub const ADDRESS_LABEL: &str = "io.ltc.address";

/// Swarm's limit on a service name (a DNS label).
const NAME_LIMIT: usize = 63;

/// The service that runs one instance. ltc keeps its own semantics on top: Swarm never
/// restarts the task (ltc's crash backoff decides), publishes the instance's host ports on
/// the machine it lands on (host mode, not the routing mesh: the router picks the instance),
/// and places it where it fits unless `constraint` pins it.
pub fn service_spec(
    spec: &InstanceSpec,
    image: &str,
    constraint: Option<&str>,
    stop_grace: Duration,
) -> ServiceSpec {
    let labels: HashMap<String, String> = spec.labels.clone().into_iter().collect();
    let container = TaskSpecContainerSpec {
        image: Some(image.to_string()),
        labels: Some(labels.clone()),
        command: spec.command.as_ref().map(|c| c[..1].to_vec()),
        args: spec.command.as_ref().map(|c| c[1..].to_vec()),
        env: Some(spec.env.clone()),
        dir: spec.working_dir.clone(),
        user: spec.user.clone(),
        mounts: (!spec.mounts.is_empty()).then(|| {
            spec.mounts
                .iter()
                .map(|(source, target, read_only)| Mount {
                    target: Some(target.clone()),
                    source: Some(source.clone()),
                    typ: Some(if source.starts_with('/') {
                        MountType::BIND
                    } else {
                        MountType::VOLUME
                    }),
                    read_only: Some(*read_only),
                    ..Default::default()
                })
                .collect()
        }),
        stop_grace_period: Some(stop_grace.as_nanos() as i64),
        // Docker's init forwards SIGTERM, as for a single engine's containers.
        init: Some(true),
        ..Default::default()
    };
    let limits = Limit {
        memory_bytes: (spec.memory_bytes > 0).then_some(spec.memory_bytes as i64),
        pids: (spec.pids_limit > 0).then_some(i64::from(spec.pids_limit)),
        ..Default::default()
    };
    let ports = spec
        .ports
        .iter()
        .map(|(container, host)| EndpointPortConfig {
            protocol: Some(EndpointPortConfigProtocolEnum::TCP),
            target_port: Some(i64::from(*container)),
            published_port: Some(i64::from(*host)),
            publish_mode: Some(EndpointPortConfigPublishModeEnum::HOST),
            ..Default::default()
        })
        .collect();
    ServiceSpec {
        name: Some(service_name(&spec.name)),
        labels: Some(labels),
        task_template: Some(TaskSpec {
            container_spec: Some(container),
            resources: Some(TaskSpecResources {
                limits: Some(limits),
                ..Default::default()
            }),
            restart_policy: Some(TaskSpecRestartPolicy {
                condition: Some(TaskSpecRestartPolicyConditionEnum::NONE),
                ..Default::default()
            }),
            placement: constraint.map(|c| TaskSpecPlacement {
                constraints: Some(vec![c.to_string()]),
                ..Default::default()
            }),
            ..Default::default()
        }),
        mode: Some(ServiceSpecMode {
            replicated: Some(ServiceSpecModeReplicated { replicas: Some(1) }),
            ..Default::default()
        }),
        endpoint_spec: Some(EndpointSpec {
            ports: Some(ports),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// The container's name as a service name: at most 63 characters, keeping the end (the
/// instance's guid) so that two long names stay apart.
pub fn service_name(name: &str) -> String {
    if name.len() <= NAME_LIMIT {
        return name.to_string();
    }
    let tail = &name[name.len() - 22..];
    format!("{}-{tail}", &name[..NAME_LIMIT - 23])
}

/// The cells of a swarm by node id. A cell is named by its machine's hostname, with the
/// node's short id when two machines share one.
pub fn cells(nodes: &[Node], local_node: &str) -> Vec<(String, CellReport)> {
    let hostname = |n: &Node| {
        n.description
            .as_ref()
            .and_then(|d| d.hostname.clone())
            .unwrap_or_else(|| "node".into())
    };
    let mut reports: Vec<(String, CellReport)> = nodes
        .iter()
        .filter_map(|node| {
            let id = node.id.clone()?;
            let name = hostname(node);
            let shared = nodes.iter().filter(|n| hostname(n) == name).count() > 1;
            let description = node.description.clone().unwrap_or_default();
            let resources = description.resources.unwrap_or_default();
            let spec = node.spec.clone().unwrap_or_default();
            let status = node.status.clone().unwrap_or_default();
            let address = spec
                .labels
                .as_ref()
                .and_then(|l| l.get(ADDRESS_LABEL)?.parse().ok())
                .or_else(|| status.addr.as_deref()?.parse().ok())
                .filter(|a: &IpAddr| !a.is_unspecified())
                .unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST));
            let report = CellReport {
                cell_id: match shared {
                    true => format!("{name}-{}", &id[..id.len().min(6)]),
                    false => name,
                },
                address,
                memory_bytes: resources.memory_bytes.unwrap_or(0).max(0) as u64,
                cpus: (resources.nano_cpus.unwrap_or(0).max(0) / 1_000_000_000) as u64,
                engine_version: description
                    .engine
                    .and_then(|e| e.engine_version)
                    .unwrap_or_default(),
                state: match status.state {
                    Some(NodeState::READY) => "ready",
                    Some(NodeState::DOWN) => "down",
                    Some(NodeState::DISCONNECTED) => "disconnected",
                    _ => "unknown",
                }
                .into(),
                availability: match spec.availability {
                    Some(NodeSpecAvailabilityEnum::PAUSE) => "pause",
                    Some(NodeSpecAvailabilityEnum::DRAIN) => "drain",
                    _ => "active",
                }
                .into(),
                local: id == local_node,
            };
            Some((id, report))
        })
        .collect();
    reports.sort_by(|a, b| a.1.cell_id.cmp(&b.1.cell_id));
    reports
}

/// The task that stands for a service now: the newest.
pub fn newest<'a>(tasks: impl Iterator<Item = &'a Task>) -> Option<&'a Task> {
    tasks.max_by_key(|t| {
        (
            t.created_at.as_deref().and_then(parse_time),
            t.version.as_ref().and_then(|v| v.index),
        )
    })
}

fn parse_time(text: &str) -> Option<SystemTime> {
    humantime::parse_rfc3339_weak(text.trim_end_matches('Z'))
        .ok()
        .or_else(|| humantime::parse_rfc3339(text).ok())
}

/// A task's state as a container's.
pub fn state_of(task: Option<&Task>) -> ContainerState {
    let Some(task) = task else {
        return ContainerState::Created;
    };
    let status = task.status.clone().unwrap_or_default();
    let exit_code = status.container_status.and_then(|c| c.exit_code);
    match status.state {
        Some(
            TaskState::NEW
            | TaskState::ALLOCATED
            | TaskState::PENDING
            | TaskState::ASSIGNED
            | TaskState::ACCEPTED
            | TaskState::PREPARING
            | TaskState::READY
            | TaskState::STARTING,
        ) => ContainerState::Created,
        Some(TaskState::RUNNING) => ContainerState::Running,
        // Its process exited, or it never started.
        Some(TaskState::COMPLETE | TaskState::FAILED | TaskState::REJECTED | TaskState::REMOVE) => {
            ContainerState::Exited(exit_code)
        }
        // Swarm stopped it: ltc never updates a service (it makes a new one), so only its
        // machine leaving (drained, or down long enough) does this.
        Some(TaskState::SHUTDOWN | TaskState::ORPHANED) => ContainerState::Evacuated,
        _ => ContainerState::Other,
    }
}

/// The container a machine made for the task, once it did (it started, whatever happened
/// since).
pub fn container_of(task: &Task) -> Option<&str> {
    task.status
        .as_ref()?
        .container_status
        .as_ref()?
        .container_id
        .as_deref()
        .filter(|c| !c.is_empty())
}

/// The machine that took the task, once one did.
pub fn node_of(task: &Task) -> Option<&str> {
    task.node_id.as_deref().filter(|n| !n.is_empty())
}

/// The cell of a swarm node, from [`cells`].
pub fn cell_of<'a>(cells: &'a [(String, CellReport)], node: &str) -> Option<&'a CellReport> {
    cells
        .iter()
        .find(|(id, _)| id == node)
        .map(|(_, cell)| cell)
}

/// Where a cell's instances run.
pub fn placement(cell: &CellReport) -> Placement {
    Placement {
        cell: cell.cell_id.clone(),
        address: cell.address,
    }
}

/// Whether a task has ended (it will not run again).
pub fn ended(task: &Task) -> bool {
    matches!(
        state_of(Some(task)),
        ContainerState::Exited(_) | ContainerState::Evacuated
    )
}

/// A service with its newest task, as ltc's instance: the service's id stands for the
/// container, the task's node is the cell.
pub fn observe(
    service: &Service,
    task: Option<&Task>,
    cells: &[(String, CellReport)],
) -> Option<Observed> {
    let id = ContainerId(service.id.clone()?);
    let spec = service.spec.clone().unwrap_or_default();
    let ports: BTreeMap<u16, u16> = spec
        .endpoint_spec
        .and_then(|e| e.ports)
        .unwrap_or_default()
        .into_iter()
        .filter_map(|p| {
            Some((
                u16::try_from(p.target_port?).ok()?,
                u16::try_from(p.published_port?).ok()?,
            ))
        })
        .collect();
    let cell = task.and_then(node_of).and_then(|node| cell_of(cells, node));
    // Not placed yet: no cell (the node keeps what it knew).
    let placement = cell.map(placement).unwrap_or_else(|| Placement {
        cell: String::new(),
        address: IpAddr::V4(Ipv4Addr::LOCALHOST),
    });
    // A task on a machine that is down runs nowhere, whatever its last report said.
    let state = match (state_of(task), cell) {
        (ContainerState::Running | ContainerState::Created, Some(cell)) if cell.state == "down" => {
            ContainerState::Evacuated
        }
        (state, _) => state,
    };
    let created = service
        .created_at
        .as_deref()
        .and_then(parse_time)
        .and_then(|t| t.duration_since(SystemTime::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_secs() as i64);
    Some(Observed {
        id,
        labels: spec.labels.unwrap_or_default().into_iter().collect(),
        state,
        ports,
        created,
        placement,
    })
}

/// Why a task did not run, in Swarm's words ("no suitable node (insufficient resources on
/// 2 nodes)", "No such image: ...").
pub fn why_not(task: &Task) -> Option<String> {
    let status = task.status.as_ref()?;
    status
        .err
        .clone()
        .filter(|e| !e.is_empty())
        .or_else(|| status.message.clone())
}

#[cfg(test)]
mod tests {
    use super::*;
    use bollard::models::{
        ContainerStatus, NodeDescription, NodeSpec, NodeStatus, ObjectVersion, TaskStatus,
    };

    fn instance() -> InstanceSpec {
        InstanceSpec {
            name: "ltc-web-0-0123456789abcdef".into(),
            image: "sha256:abc".into(),
            command: Some(vec!["/app".into(), "--port".into(), "8080".into()]),
            env: vec!["PORT=8080".into()],
            working_dir: None,
            user: None,
            labels: BTreeMap::from([("io.ltc.app".into(), "web".into())]),
            ports: vec![(8080, 49153)],
            memory_bytes: 128 << 20,
            cpu_shares: 1024,
            pids_limit: 0,
            privileged: false,
            mounts: vec![("data".into(), "/data".into(), false)],
        }
    }

    #[test]
    fn an_instance_is_one_replica_that_swarm_never_restarts_publishing_its_host_ports() {
        let spec = service_spec(
            &instance(),
            "127.0.0.1:5000/ltc-web:abc",
            None,
            Duration::from_secs(10),
        );
        assert_eq!(spec.name.as_deref(), Some("ltc-web-0-0123456789abcdef"));
        assert_eq!(
            spec.mode.unwrap().replicated.unwrap().replicas,
            Some(1),
            "one service per instance"
        );
        let task = spec.task_template.unwrap();
        assert_eq!(
            task.restart_policy.unwrap().condition,
            Some(TaskSpecRestartPolicyConditionEnum::NONE)
        );
        assert!(task.placement.is_none());
        let container = task.container_spec.unwrap();
        assert_eq!(container.command, Some(vec!["/app".to_string()]));
        assert_eq!(
            container.args,
            Some(vec!["--port".to_string(), "8080".to_string()])
        );
        assert_eq!(container.labels.unwrap()["io.ltc.app"], "web");
        assert_eq!(container.init, Some(true));
        assert_eq!(container.mounts.unwrap()[0].typ, Some(MountType::VOLUME));
        let port = &spec.endpoint_spec.unwrap().ports.unwrap()[0];
        assert_eq!(
            (port.target_port, port.published_port, port.publish_mode),
            (
                Some(8080),
                Some(49153),
                Some(EndpointPortConfigPublishModeEnum::HOST)
            )
        );
        assert_eq!(spec.labels.unwrap()["io.ltc.app"], "web");
        let pinned = service_spec(
            &instance(),
            "sha256:abc",
            Some("node.id==n1"),
            Duration::ZERO,
        );
        assert_eq!(
            pinned.task_template.unwrap().placement.unwrap().constraints,
            Some(vec!["node.id==n1".to_string()])
        );
    }

    #[test]
    fn a_long_name_is_cut_to_a_dns_label_keeping_its_guid() {
        let long = format!("ltc-{}-3-0123456789abcdef", "a".repeat(60));
        let cut = service_name(&long);
        assert_eq!(cut.len(), 63);
        assert!(cut.ends_with("-3-0123456789abcdef"), "{cut}");
        assert_eq!(service_name("ltc-web-0-ab"), "ltc-web-0-ab");
    }

    fn node(id: &str, host: &str, addr: &str, label: Option<&str>) -> Node {
        Node {
            id: Some(id.into()),
            spec: Some(NodeSpec {
                labels: label.map(|a| HashMap::from([(ADDRESS_LABEL.to_string(), a.to_string())])),
                availability: Some(NodeSpecAvailabilityEnum::ACTIVE),
                ..Default::default()
            }),
            description: Some(NodeDescription {
                hostname: Some(host.into()),
                ..Default::default()
            }),
            status: Some(NodeStatus {
                state: Some(NodeState::READY),
                addr: Some(addr.into()),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    #[test]
    fn cells_are_named_by_hostname_and_routed_at_the_label_or_the_status_address() {
        let nodes = [
            node("aaaaaaaaaa", "vm", "127.0.0.1", None),
            node("bbbbbbbbbb", "vm", "127.0.0.1", Some("127.0.0.2")),
            node("cccccccccc", "db", "10.0.0.7", None),
        ];
        let cells = cells(&nodes, "aaaaaaaaaa");
        let named: Vec<(&str, String, bool)> = cells
            .iter()
            .map(|(_, c)| (c.cell_id.as_str(), c.address.to_string(), c.local))
            .collect();
        assert_eq!(
            named,
            [
                ("db", "10.0.0.7".to_string(), false),
                ("vm-aaaaaa", "127.0.0.1".to_string(), true),
                ("vm-bbbbbb", "127.0.0.2".to_string(), false),
            ]
        );
    }

    fn task(state: TaskState, created: &str, exit: Option<i64>) -> Task {
        Task {
            created_at: Some(created.into()),
            version: Some(ObjectVersion { index: Some(1) }),
            node_id: Some("bbbbbbbbbb".into()),
            status: Some(TaskStatus {
                state: Some(state),
                container_status: Some(ContainerStatus {
                    exit_code: exit,
                    ..Default::default()
                }),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    #[test]
    fn the_newest_task_stands_for_the_instance() {
        let old = task(TaskState::COMPLETE, "2026-12-01T00:00:01.5Z", Some(0));
        let new = task(TaskState::RUNNING, "2026-12-01T00:00:01.25Z", None);
        let newer = task(TaskState::FAILED, "2026-12-01T00:00:02Z", Some(3));
        assert_eq!(newest([&old, &new].into_iter()), Some(&old));
        assert_eq!(
            state_of(newest([&old, &new, &newer].into_iter())),
            ContainerState::Exited(Some(3))
        );
        assert_eq!(state_of(None), ContainerState::Created);
        assert_eq!(
            state_of(Some(&task(TaskState::PREPARING, "", None))),
            ContainerState::Created
        );
        // Stopped by Swarm (its machine drained), not by its process.
        assert_eq!(
            state_of(Some(&task(TaskState::SHUTDOWN, "", Some(143)))),
            ContainerState::Evacuated
        );
    }

    #[test]
    fn a_service_is_observed_with_its_ports_labels_and_cell() {
        let spec = service_spec(&instance(), "img", None, Duration::ZERO);
        let service = Service {
            id: Some("svc1".into()),
            created_at: Some("2026-12-01T00:00:00.000000001Z".into()),
            spec: Some(spec),
            ..Default::default()
        };
        let nodes = [node("bbbbbbbbbb", "b", "127.0.0.1", Some("127.0.0.2"))];
        let cells = cells(&nodes, "x");
        let running = task(TaskState::RUNNING, "2026-12-01T00:00:01Z", None);
        let observed = observe(&service, Some(&running), &cells).unwrap();
        assert_eq!(observed.id, ContainerId("svc1".into()));
        assert_eq!(observed.state, ContainerState::Running);
        assert_eq!(observed.ports, BTreeMap::from([(8080, 49153)]));
        assert_eq!(observed.labels["io.ltc.app"], "web");
        assert_eq!(observed.placement.cell, "b");
        assert_eq!(observed.placement.address.to_string(), "127.0.0.2");
        assert_eq!(observed.created, 1_796_083_200);
        let mut down = nodes[0].clone();
        down.status.as_mut().unwrap().state = Some(NodeState::DOWN);
        let cells = super::cells(&[down], "x");
        let observed = observe(&service, Some(&running), &cells).unwrap();
        assert_eq!(observed.state, ContainerState::Evacuated);
    }
}
