//! `event_channel_op(cmd, arg)`: ports, bindings and notifications.
//!
//! The permission rules: a domain allocates, queries and resets only its
//! own ports unless it is privileged; it binds only to a port another
//! domain offered to it by name (`alloc_unbound` with its id as the remote);
//! it closes, sends on and unmasks only its own ports (there is no domain
//! argument to name anyone else's).

use super::completion::Completion;
use super::hypercall_context::HypercallContext;
use crate::arch::Platform;
use crate::domain::domain_table::{Everyone, Others};
use crate::domain::pv_domain::PvDomain;
use crate::event::close::{close_all_ports, close_port};
use crate::event::{Channel, Port};
use crate::guest_copy::{read_from_guest, write_to_guest};
use xen_abi::errno::Errno;
use xen_abi::event_channel::*;
use xen_abi::mmu::DOMID_SELF;
use xen_abi::mmu::DomId;

/// VIRQs delivered per vCPU; every other VIRQ is global and binds on vCPU 0
/// only (Xen's `virq_is_global`).
fn virq_is_per_vcpu(virq: u32) -> bool {
    matches!(virq, VIRQ_TIMER | VIRQ_DEBUG | VIRQ_XENOPROF | VIRQ_XENPMU)
}

/// `event_channel_op(cmd, arg)`.
pub fn event_channel_op<P: Platform>(
    context: &mut HypercallContext<'_, P>,
    args: [u64; 5],
) -> Result<Completion, Errno> {
    let [command, argument, ..] = args;
    let Ok(command) = u32::try_from(command) else {
        return Err(Errno::ENOSYS);
    };
    match command {
        EVTCHNOP_ALLOC_UNBOUND => {
            let mut op: EvtchnAllocUnbound = read_from_guest(context.platform.guest(), argument)?;
            op.port = EvtchnPort::from(alloc_unbound(context, op.dom, op.remote_dom)?);
            write_to_guest(context.platform.guest(), argument, &op)?;
        }
        EVTCHNOP_BIND_INTERDOMAIN => {
            let mut op: EvtchnBindInterdomain = read_from_guest(context.platform.guest(), argument)?;
            op.local_port = EvtchnPort::from(bind_interdomain(context, op.remote_dom, op.remote_port)?);
            write_to_guest(context.platform.guest(), argument, &op)?;
        }
        EVTCHNOP_BIND_VIRQ => {
            let mut op: EvtchnBindVirq = read_from_guest(context.platform.guest(), argument)?;
            op.port = EvtchnPort::from(bind_virq(context.domain, op.virq, op.vcpu)?);
            write_to_guest(context.platform.guest(), argument, &op)?;
        }
        EVTCHNOP_BIND_IPI => {
            let mut op: EvtchnBindIpi = read_from_guest(context.platform.guest(), argument)?;
            check_vcpu(op.vcpu)?;
            op.port = EvtchnPort::from(context.domain.events.allocate(Channel::Ipi)?);
            write_to_guest(context.platform.guest(), argument, &op)?;
        }
        // No domain is given physical IRQs: every number is out of range.
        EVTCHNOP_BIND_PIRQ => return Err(Errno::EINVAL),
        EVTCHNOP_CLOSE => {
            let op: EvtchnClose = read_from_guest(context.platform.guest(), argument)?;
            let port = context.domain.events.valid_port(op.port)?;
            let me = context.domain.id();
            close_port(
                &mut everyone(context.domain, &mut context.others),
                context.platform.memory(),
                me,
                port,
            )?;
        }
        EVTCHNOP_SEND => {
            let op: EvtchnSend = read_from_guest(context.platform.guest(), argument)?;
            send(context, op.port)?;
        }
        EVTCHNOP_STATUS => {
            let mut op: EvtchnStatus = read_from_guest(context.platform.guest(), argument)?;
            status(context, &mut op)?;
            write_to_guest(context.platform.guest(), argument, &op)?;
        }
        EVTCHNOP_BIND_VCPU => {
            let op: EvtchnBindVcpu = read_from_guest(context.platform.guest(), argument)?;
            bind_vcpu(context.domain, op.port, op.vcpu)?;
        }
        EVTCHNOP_UNMASK => {
            let op: EvtchnUnmask = read_from_guest(context.platform.guest(), argument)?;
            let port = context.domain.events.valid_port(op.port)?;
            context.domain.unmask_port(context.platform.memory(), port);
        }
        EVTCHNOP_RESET => {
            let op: EvtchnReset = read_from_guest(context.platform.guest(), argument)?;
            reset(context, op.dom)?;
        }
        // The FIFO ABI is not offered: failing here leaves nothing behind.
        _ => return Err(Errno::ENOSYS),
    }
    Ok(Completion::Value(0))
}

fn everyone<'x, 'y>(caller: &'x mut PvDomain, others: &'x mut Others<'y>) -> Everyone<'x, 'y> {
    Everyone { caller, others }
}

/// Domain `id` (already resolved from DOMID_SELF): the caller or another.
fn domain_by_id<'c, P: Platform>(context: &'c mut HypercallContext<'_, P>, id: DomId) -> Option<&'c mut PvDomain> {
    if id == context.domain.id() {
        Some(&mut *context.domain)
    } else {
        context.others.get_mut(id)
    }
}

/// `dom` with DOMID_SELF replaced by the caller's id.
fn resolve(context_domain: &PvDomain, dom: DomId) -> DomId {
    if dom == DOMID_SELF { context_domain.id() } else { dom }
}

/// The domain `dom` names, if the caller may act on it: itself, or anyone
/// for a privileged caller. A missing domain is `-ESRCH` before any
/// permission check, as in Xen.
fn target_domain<'c, P: Platform>(
    context: &'c mut HypercallContext<'_, P>,
    dom: DomId,
) -> Result<&'c mut PvDomain, Errno> {
    let id = resolve(context.domain, dom);
    let privileged = context.domain.privilege().is_some();
    let me = context.domain.id();
    let target = domain_by_id(context, id).ok_or(Errno::ESRCH)?;
    if target.id() != me && !privileged {
        return Err(Errno::EPERM);
    }
    Ok(target)
}

/// The vCPU ids that exist: every domain has one vCPU.
fn check_vcpu(vcpu: u32) -> Result<(), Errno> {
    if vcpu == 0 { Ok(()) } else { Err(Errno::ENOENT) }
}

fn alloc_unbound<P: Platform>(
    context: &mut HypercallContext<'_, P>,
    dom: DomId,
    remote_dom: DomId,
) -> Result<Port, Errno> {
    let remote = resolve(context.domain, remote_dom);
    target_domain(context, dom)?
        .events
        .allocate(Channel::Unbound { remote })
}

fn bind_interdomain<P: Platform>(
    context: &mut HypercallContext<'_, P>,
    remote_dom: DomId,
    remote_port: EvtchnPort,
) -> Result<Port, Errno> {
    let me = context.domain.id();
    let remote_id = resolve(context.domain, remote_dom);
    domain_by_id(context, remote_id).ok_or(Errno::ESRCH)?;
    // Xen's order of errors: no free local port, then a port not offered.
    if context.domain.events.is_full() {
        return Err(Errno::ENOSPC);
    }
    let remote = domain_by_id(context, remote_id).ok_or(Errno::ESRCH)?;
    let remote_port = remote
        .events
        .valid_port(remote_port)
        .ok()
        .filter(|&port| remote.events.entry(port).channel == Channel::Unbound { remote: me })
        .ok_or(Errno::EINVAL)?;
    let local = context.domain.events.allocate(Channel::Interdomain {
        remote: remote_id,
        remote_port,
    })?;
    let back = Channel::Interdomain {
        remote: me,
        remote_port: local,
    };
    domain_by_id(context, remote_id)
        .ok_or(Errno::ESRCH)?
        .events
        .set_channel(remote_port, back);
    // Notifications sent to the unbound port were lost: make up for them.
    context.domain.raise_port(context.platform.memory(), local);
    Ok(local)
}

fn bind_virq(domain: &mut PvDomain, virq: u32, vcpu: u32) -> Result<Port, Errno> {
    if virq >= NR_VIRQS || (!virq_is_per_vcpu(virq) && vcpu != 0) {
        return Err(Errno::EINVAL);
    }
    check_vcpu(vcpu)?;
    if domain.events.virq_port(virq).is_some() {
        return Err(Errno::EEXIST);
    }
    domain.events.allocate(Channel::Virq(virq))
}

fn send<P: Platform>(context: &mut HypercallContext<'_, P>, port: EvtchnPort) -> Result<(), Errno> {
    let port = context.domain.events.valid_port(port)?;
    match context.domain.events.entry(port).channel {
        Channel::Interdomain { remote, remote_port } => {
            let memory = context.platform.memory();
            let woke = if remote == context.domain.id() {
                context.domain.raise_port(memory, remote_port)
            } else {
                // Closing either end unbinds both, so the far end exists.
                match context.others.get_mut(remote) {
                    Some(far) => far.raise_port(memory, remote_port),
                    None => false,
                }
            };
            context.reschedule |= woke;
            Ok(())
        }
        Channel::Ipi => {
            context.domain.raise_port(context.platform.memory(), port);
            Ok(())
        }
        // Nobody listens yet: the notification is dropped, as in Xen.
        Channel::Unbound { .. } => Ok(()),
        Channel::Free | Channel::Reserved | Channel::Virq(_) => Err(Errno::EINVAL),
    }
}

fn status<P: Platform>(context: &mut HypercallContext<'_, P>, op: &mut EvtchnStatus) -> Result<(), Errno> {
    let domain = target_domain(context, op.dom)?;
    let port = domain.events.valid_port(op.port)?;
    let entry = domain.events.entry(port);
    op.vcpu = u32::from(entry.notify_vcpu);
    op.u = EvtchnStatusDetail::default();
    op.status = match entry.channel {
        Channel::Free | Channel::Reserved => EVTCHNSTAT_CLOSED,
        Channel::Unbound { remote } => {
            op.u.unbound_mut().dom = remote;
            EVTCHNSTAT_UNBOUND
        }
        Channel::Interdomain { remote, remote_port } => {
            let detail = op.u.interdomain_mut();
            detail.dom = remote;
            detail.port = EvtchnPort::from(remote_port);
            EVTCHNSTAT_INTERDOMAIN
        }
        Channel::Virq(virq) => {
            op.u.raw[0] = virq;
            EVTCHNSTAT_VIRQ
        }
        Channel::Ipi => EVTCHNSTAT_IPI,
    };
    Ok(())
}

fn bind_vcpu(domain: &mut PvDomain, port: EvtchnPort, vcpu: u32) -> Result<(), Errno> {
    let port = domain.events.valid_port(port)?;
    check_vcpu(vcpu)?;
    match domain.events.entry(port).channel {
        Channel::Unbound { .. } | Channel::Interdomain { .. } => Ok(()),
        Channel::Virq(virq) if !virq_is_per_vcpu(virq) => Ok(()),
        _ => Err(Errno::EINVAL),
    }
}

fn reset<P: Platform>(context: &mut HypercallContext<'_, P>, dom: DomId) -> Result<(), Errno> {
    let id = target_domain(context, dom)?.id();
    close_all_ports(
        &mut everyone(context.domain, &mut context.others),
        context.platform.memory(),
        id,
    );
    Ok(())
}
