package io.keel.nvmf;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.keel.core.rpc.Json;
import java.util.List;

/** The target-wide settings of {@code nvmf_set_config}, saved in SPDK's shape. */
record NvmfConfig(String discoveryFilter, AdminCmdPassthru adminCmdPassthru, List<String> dhchapDigests,
        List<String> dhchapDhgroups, String dupHostPolicy, String pollGroupsMask) {

    record AdminCmdPassthru(Boolean identifyCtrlr, Boolean identifyUuidList, Boolean getLogPage,
            Boolean getSetFeatures, Boolean sanitize, Boolean securitySendRecv, Boolean fwUpdate, Boolean nvmeMi,
            Boolean vendorSpecific) {
        static final AdminCmdPassthru NONE = new AdminCmdPassthru(false, false, false, false, false, false, false,
                false, false);

        List<Boolean> flags() {
            return java.util.Arrays.asList(identifyCtrlr, identifyUuidList, getLogPage, getSetFeatures, sanitize,
                    securitySendRecv, fwUpdate, nvmeMi, vendorSpecific);
        }
    }

    static final List<String> DIGESTS = List.of("sha256", "sha384", "sha512");
    static final List<String> DHGROUPS = List.of("null", "ffdhe2048", "ffdhe3072", "ffdhe4096", "ffdhe6144", "ffdhe8192");
    static final List<String> DISCOVERY_FILTERS = List.of("transport", "address", "svcid");

    static final NvmfConfig DEFAULTS = new NvmfConfig("match_any", AdminCmdPassthru.NONE, DIGESTS, DHGROUPS, "allow", null);

    /** This configuration with what {@code p} sets (null fields keep their value). */
    NvmfConfig with(NvmfConfig p) {
        return new NvmfConfig(p.discoveryFilter != null ? p.discoveryFilter : discoveryFilter,
                p.adminCmdPassthru != null ? p.adminCmdPassthru : adminCmdPassthru,
                p.dhchapDigests != null ? List.copyOf(p.dhchapDigests) : dhchapDigests,
                p.dhchapDhgroups != null ? List.copyOf(p.dhchapDhgroups) : dhchapDhgroups,
                p.dupHostPolicy != null ? p.dupHostPolicy : dupHostPolicy,
                p.pollGroupsMask != null ? p.pollGroupsMask : pollGroupsMask);
    }

    String problem() {
        if (!"match_any".equals(discoveryFilter)) {
            for (String f : discoveryFilter.split(",", -1)) {
                if (!DISCOVERY_FILTERS.contains(f.trim())) {
                    return "discovery_filter must be match_any or a comma separated list of transport, address, svcid";
                }
            }
        }
        for (Boolean f : adminCmdPassthru.flags()) {
            if (Boolean.TRUE.equals(f)) {
                return "admin_cmd_passthru needs an NVMe bdev underneath, which Keel does not have";
            }
        }
        if (!DIGESTS.containsAll(dhchapDigests)) {
            return "dhchap_digests must be among " + DIGESTS;
        }
        if (!DHGROUPS.containsAll(dhchapDhgroups)) {
            return "dhchap_dhgroups must be among " + DHGROUPS;
        }
        if (!List.of("allow", "restrict_per_listener").contains(dupHostPolicy)) {
            return "dup_host_policy must be allow or restrict_per_listener";
        }
        if (pollGroupsMask != null) {
            try {
                io.keel.core.thread.CpuMask.parse(pollGroupsMask);
            } catch (RuntimeException e) {
                return "poll_groups_mask: " + e.getMessage();
            }
        }
        return null;
    }

    /** Params of the saved {@code nvmf_set_config}, in SPDK's order. */
    ObjectNode describe() {
        ObjectNode o = Json.object();
        o.put("discovery_filter", discoveryFilter);
        ObjectNode a = o.putObject("admin_cmd_passthru");
        String[] names = {"identify_ctrlr", "identify_uuid_list", "get_log_page", "get_set_features", "sanitize",
            "security_send_recv", "fw_update", "nvme_mi", "vendor_specific"};
        List<Boolean> flags = adminCmdPassthru.flags();
        for (int i = 0; i < names.length; i++) {
            a.put(names[i], Boolean.TRUE.equals(flags.get(i)));
        }
        ArrayNode d = o.putArray("dhchap_digests");
        DIGESTS.stream().filter(dhchapDigests::contains).forEach(d::add);
        ArrayNode g = o.putArray("dhchap_dhgroups");
        DHGROUPS.stream().filter(dhchapDhgroups::contains).forEach(g::add);
        o.put("dup_host_policy", dupHostPolicy);
        if (pollGroupsMask != null) {
            o.put("poll_groups_mask", pollGroupsMask);
        }
        return o;
    }
}
