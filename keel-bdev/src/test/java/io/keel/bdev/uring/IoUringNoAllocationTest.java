package io.keel.bdev.uring;

import static org.assertj.core.api.Assertions.assertThat;

import io.keel.core.testing.C1Jvm;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The data path allocates nothing per I/O (DESIGN section 5), even compiled by C1 alone as in the QEMU guests, where
 * nothing is scalar-replaced: prepare, submit and reap of 4 KiB reads ({@link IoUringAllocationProbe}). Before
 * io_uring_enter was bound without errno capture, each submit allocated the JDK's 40-byte view of the call state.
 */
class IoUringNoAllocationTest {
    @TempDir
    Path tmp;

    @Test
    void preparingSubmittingAndReapingAllocatesNothingUnderC1() throws Exception {
        C1Jvm.Result r = C1Jvm.run(IoUringAllocationProbe.class, Duration.ofSeconds(120), tmp.toString());
        Assumptions.assumeFalse(r.exitCode() == 2, r.output());
        assertThat(r.exitCode()).as(r.output()).isZero();
        assertThat(r.allocatedBytes()).as("bytes allocated over %d I/Os under C1", r.operations()).isZero();
    }
}
