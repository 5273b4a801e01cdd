//! The hypercall page: 128 stubs of 32 bytes that guests call instead of
//! coding `syscall` themselves.
//!
//! Slot `n` holds `push %rcx; push %r11; mov $n, %eax; syscall; pop %r11;
//! pop %rcx; ret`. Slot 23 (`iret`) is different: the guest *jumps* to it with
//! an `iret_context` on its stack, and it pushes RAX as well and never returns.
//! Bytes after each stub are `int3`, so a stray jump into a slot traps.

pub use xen_abi::hypercall::HYPERCALL_PAGE_SIZE;
use xen_abi::hypercall::{HYPERCALL_STUB_SIZE, IRET};

/// `push %rcx; push %r11` (both are destroyed by `syscall`).
const SAVE: [u8; 3] = [0x51, 0x41, 0x53];
/// `syscall; pop %r11; pop %rcx; ret`.
const CALL_AND_RETURN: [u8; 7] = [0x0f, 0x05, 0x41, 0x5b, 0x59, 0xc3, 0xcc];
/// `push %rax` before `mov $23, %eax` in the iret stub.
const PUSH_RAX: u8 = 0x50;
/// `mov $imm32, %eax`.
const MOV_EAX: u8 = 0xb8;
/// `syscall`, all the iret stub does after loading its number.
const SYSCALL: [u8; 2] = [0x0f, 0x05];
/// `int3`.
const INT3: u8 = 0xcc;

/// Fills `page` with the stubs.
pub fn fill_hypercall_page(page: &mut [u8; HYPERCALL_PAGE_SIZE]) {
    page.fill(INT3);
    for (number, slot) in page.chunks_exact_mut(HYPERCALL_STUB_SIZE).enumerate() {
        let number = number as u32;
        let mut code = [INT3; HYPERCALL_STUB_SIZE];
        code[..3].copy_from_slice(&SAVE);
        let mut at = 3;
        if number == IRET {
            code[at] = PUSH_RAX;
            at += 1;
        }
        code[at] = MOV_EAX;
        code[at + 1..at + 5].copy_from_slice(&number.to_le_bytes());
        at += 5;
        if number == IRET {
            code[at..at + 2].copy_from_slice(&SYSCALL);
        } else {
            code[at..at + 7].copy_from_slice(&CALL_AND_RETURN);
        }
        slot.copy_from_slice(&code);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page() -> [u8; HYPERCALL_PAGE_SIZE] {
        let mut page = [0; HYPERCALL_PAGE_SIZE];
        fill_hypercall_page(&mut page);
        page
    }

    #[test]
    fn an_ordinary_slot_holds_xens_stub() {
        let page = page();
        let slot = &page[18 * 32..19 * 32];
        assert_eq!(
            &slot[..14],
            &[0x51, 0x41, 0x53, 0xb8, 18, 0, 0, 0, 0x0f, 0x05, 0x41, 0x5b, 0x59, 0xc3]
        );
        assert!(slot[14..].iter().all(|&b| b == 0xcc));
    }

    #[test]
    fn the_iret_slot_pushes_rax_and_never_returns() {
        let page = page();
        let slot = &page[23 * 32..24 * 32];
        assert_eq!(&slot[..11], &[0x51, 0x41, 0x53, 0x50, 0xb8, 0x17, 0, 0, 0, 0x0f, 0x05]);
        assert!(slot[11..].iter().all(|&b| b == 0xcc));
    }

    #[test]
    fn every_slot_loads_its_own_number() {
        let page = page();
        for number in 0..128u32 {
            let slot = &page[number as usize * 32..][..32];
            let at = if number == IRET { 5 } else { 4 };
            assert_eq!(slot[at - 1], 0xb8);
            assert_eq!(u32::from_le_bytes(slot[at..at + 4].try_into().unwrap()), number);
        }
    }
}
