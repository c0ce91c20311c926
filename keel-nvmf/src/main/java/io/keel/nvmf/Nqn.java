package io.keel.nvmf;

import java.nio.charset.StandardCharsets;
import java.util.UUID;

/** NVMe Qualified Names, validated as SPDK's {@code nvmf_valid_nqn} does. */
public final class Nqn {
    public static final String DISCOVERY = "nqn.2014-08.org.nvmexpress.discovery";
    static final String UUID_PREFIX = "nqn.2014-08.org.nvmexpress:uuid:";
    /** SPDK_NVMF_NQN_MAX_LEN: bytes, without the terminating NUL. */
    public static final int MAX_LEN = 223;
    static final int MIN_LEN = 11;
    static final int LABEL_MAX = 63;

    private Nqn() {
    }

    /** Null if {@code nqn} is valid, else why not. */
    public static String problem(String nqn) {
        byte[] bytes = nqn.getBytes(StandardCharsets.UTF_8);
        if (bytes.length > MAX_LEN) {
            return "NQN is " + bytes.length + " bytes long, more than " + MAX_LEN;
        }
        if (bytes.length < MIN_LEN) {
            return "NQN is shorter than " + MIN_LEN + " bytes";
        }
        if (nqn.equals(DISCOVERY)) {
            return null;
        }
        if (nqn.startsWith(UUID_PREFIX)) {
            String u = nqn.substring(UUID_PREFIX.length());
            if (u.length() != 36 || !isUuid(u)) {
                return "the uuid in the NQN is not formatted correctly";
            }
            return null;
        }
        if (!nqn.startsWith("nqn.")) {
            return "NQN must begin with \"nqn.\"";
        }
        if (!(digit(nqn, 4) && digit(nqn, 5) && digit(nqn, 6) && digit(nqn, 7) && nqn.charAt(8) == '-'
                && digit(nqn, 9) && digit(nqn, 10) && nqn.charAt(11) == '.')) {
            return "invalid date code in NQN (nqn.yyyy-mm.)";
        }
        int end = nqn.indexOf(':');
        if (end < 0 || end >= nqn.length() - 1) {
            return "NQN must contain a user specified name with a ':' as a prefix";
        }
        // reverse domain: labels start with a letter, hold letters, digits and '-', end alphanumeric
        int label = 0;
        char expect = 'L'; // L: letter, D: letter/digit/hyphen (after a hyphen), A: any
        for (int i = 12; i < end; i++) {
            if (label > LABEL_MAX) {
                return "a domain label in the NQN is longer than " + LABEL_MAX;
            }
            char c = nqn.charAt(i);
            boolean alpha = c < 128 && Character.isLetter(c);
            boolean alnum = alpha || c >= '0' && c <= '9';
            switch (expect) {
                case 'L' -> {
                    if (!alpha) {
                        return "domain labels in the NQN must start with a letter";
                    }
                    expect = 'A';
                    label++;
                }
                default -> {
                    if (alnum) {
                        expect = 'A';
                        label++;
                    } else if (c == '-') {
                        if (i == end - 1) {
                            return "domain labels in the NQN must end with a letter or digit";
                        }
                        expect = 'D';
                        label++;
                    } else if (c == '.' && expect == 'A') {
                        expect = 'L';
                        label = 0;
                    } else if (c == '.') {
                        return "domain labels in the NQN must end with a letter or digit";
                    } else {
                        return "the domain in the NQN holds an invalid character";
                    }
                }
            }
        }
        return null; // the user string is any UTF-8, which a Java string always encodes to
    }

    private static boolean digit(String s, int i) {
        return i < s.length() && s.charAt(i) >= '0' && s.charAt(i) <= '9';
    }

    private static boolean isUuid(String s) {
        if (!s.matches("[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")) {
            return false;
        }
        try {
            UUID.fromString(s);
            return true;
        } catch (IllegalArgumentException e) {
            return false;
        }
    }
}
