package io.keel.bdev.raid;

import com.fasterxml.jackson.annotation.JsonProperty;
import io.keel.core.rpc.Errno;
import io.keel.core.rpc.RpcException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.UUID;

/**
 * The parameters of the {@code bdev_raid_*} methods, with SPDK's names, order and defaults (SPDK's JSON-RPC schema
 * and {@code bdev_raid_rpc.c}). Components are bound by the RPC layer (camelCase here is snake_case on the wire);
 * an absent (or null) optional number or flag is 0 or false, as SPDK's zeroed request structs leave it.
 */
public final class RaidRpcParams {
    private RaidRpcParams() {
    }

    /**
     * {@code bdev_raid_create}. {@code strip_size_kb} is required, a power of two, by raid0 and concat and refused
     * by raid1; {@code uuid} absent lets the bdev layer choose one (a raid with a superblock chooses it at
     * once, to write it); {@code superblock} absent is false.
     */
    public record Create(@JsonProperty(required = true) String name, Integer stripSizeKb,
            @JsonProperty(required = true) RaidLevel raidLevel, @JsonProperty(required = true) List<String> baseBdevs,
            UUID uuid, Boolean superblock) {
        public Create {
            stripSizeKb = stripSizeKb == null ? 0 : stripSizeKb;
            superblock = superblock != null && superblock;
        }

        /**
         * The checks SPDK makes before looking at any bdev ({@code rpc_bdev_raid_create},
         * {@code _raid_bdev_create}): a uint32 strip size and at most 255 members (else -32602), then no empty
         * member name, a name shorter than 64 bytes, the level's strip size rule and its fewest members (else
         * -EINVAL with SPDK's message and the reason).
         */
        public void check() {
            if (stripSizeKb < 0) {
                throw RpcException.invalidParams("invalid value for 'strip_size_kb': " + stripSizeKb
                        + " is not a uint32");
            }
            if (baseBdevs.size() > RaidLayout.MAX_MEMBERS) {
                throw RpcException.invalidParams("invalid value for 'base_bdevs': " + baseBdevs.size()
                        + " names, at most " + RaidLayout.MAX_MEMBERS);
            }
            if (baseBdevs.stream().anyMatch(b -> b == null || b.isEmpty())) {
                throw RpcException.errno(Errno.EINVAL, "The base bdev name cannot be empty: Invalid argument");
            }
            if (name.getBytes(StandardCharsets.UTF_8).length >= RaidSuperblock.NAME_SIZE) {
                throw invalid("the name is longer than " + (RaidSuperblock.NAME_SIZE - 1) + " bytes");
            }
            if (!raidLevel.striped() && stripSizeKb != 0) {
                throw invalid("raid1 takes no strip size");
            }
            if (raidLevel.striped() && Integer.bitCount(stripSizeKb) != 1) {
                throw invalid("strip size " + stripSizeKb + " KiB is not a power of two");
            }
            if (baseBdevs.size() < raidLevel.minMembers()) {
                throw invalid(raidLevel.spdkName() + " needs at least " + raidLevel.minMembers() + " base bdevs");
            }
        }

        private RpcException invalid(String why) {
            return RpcException.errno(Errno.EINVAL, "Failed to create RAID bdev " + name + ": Invalid argument ("
                    + why + ")");
        }
    }

    /** {@code bdev_raid_delete}; {@code clear_sb} also zeroes the superblock on every member. */
    public record Delete(@JsonProperty(required = true) String name, Boolean clearSb) {
        public Delete {
            clearSb = clearSb != null && clearSb;
        }
    }

    /** {@code bdev_raid_get_bdevs}: the category is required, as rpc.py's positional argument. */
    public record GetBdevs(@JsonProperty(required = true) RaidCategory category) {
    }

    /** {@code bdev_raid_add_base_bdev}: puts a bdev into the raid's first empty slot. */
    public record AddBaseBdev(@JsonProperty(required = true) String raidBdev,
            @JsonProperty(required = true) String baseBdev) {
    }

    /** {@code bdev_raid_remove_base_bdev}: {@code name} is the member bdev's, not the raid's. */
    public record RemoveBaseBdev(@JsonProperty(required = true) String name) {
    }

    /** {@code bdev_raid_set_options}: an absent option keeps its current value (not the default), as in SPDK. */
    public record SetOptions(Integer processWindowSizeKb, Integer processMaxBandwidthMbSec) {
        /**
         * The options after this call: uint32 values (else -32602), and a window of at least 1 KiB (else -EINVAL
         * "Invalid argument", SPDK's {@code raid_bdev_set_opts}).
         */
        public RaidOptions applyTo(RaidOptions current) {
            int window = uint32("process_window_size_kb", processWindowSizeKb, current.processWindowSizeKb());
            int bandwidth = uint32("process_max_bandwidth_mb_sec", processMaxBandwidthMbSec,
                    current.processMaxBandwidthMbSec());
            if (window == 0) {
                throw RpcException.errno(Errno.EINVAL, "Invalid argument");
            }
            return new RaidOptions(window, bandwidth);
        }

        private static int uint32(String param, Integer value, int current) {
            if (value == null) {
                return current;
            }
            if (value < 0) {
                throw RpcException.invalidParams("invalid value for '" + param + "': " + value + " is not a uint32");
            }
            return value;
        }
    }
}
