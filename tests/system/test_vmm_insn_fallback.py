"""Instructions the nested KVM layer cannot emulate in a guest kernel:
xenon-vmm completes int3, fwait and ldmxcsr/stmxcsr itself
(vmm/insn_fallback.c), and still stops, naming the instruction, on one it
does not complete.  Where KVM runs them natively the guest passes the same
way and no fallback is reported."""
from conftest import EXIT_INTERNAL, EXIT_POWEROFF, result_line


def test_int3_fwait_and_mxcsr_behave_as_on_a_cpu(vmm):
    proc = vmm.run(cmdline="test=insn")
    assert proc.returncode == EXIT_POWEROFF, proc.stderr
    res = result_line(proc.stdout, "insn")
    assert res["status"] == "pass", (res, proc.stderr)
    # the #BP handler ran once per int3, on the architectural frame
    assert res["int3"] == "3"
    assert (res["bad_rip"], res["bad_cs"], res["bad_align"], res["if_on"]) \
        == ("0", "0", "0", "0")
    assert (res["mxcsr"], res["mxcsr_back"]) == ("0x7f80", "0x1f80")
    # each kind is reported at most once, however often the guest ran it
    for kind in ("int3", "fwait", "ldmxcsr", "stmxcsr"):
        assert proc.stderr.count(f"completed '{kind}'") <= 1, proc.stderr


def test_an_instruction_it_does_not_complete_stops_the_domain(vmm):
    proc = vmm.run(cmdline="test=insn-unsupported")
    if proc.returncode == EXIT_POWEROFF:      # KVM ran cmpxchg16b itself
        assert result_line(proc.stdout, "insn-unsupported")["status"] == "pass"
        return
    assert proc.returncode == EXIT_INTERNAL, proc.stderr
    assert "emulation failure at" in proc.stderr
    assert "bytes f0 48 0f c7" in proc.stderr    # lock cmpxchg16b
    assert "internal error" in proc.stderr
