package io.keel.bdev;

import java.util.UUID;

/**
 * A bdev built on one base bdev (passthru, error, delay): it takes the base's geometry, supported I/O types,
 * write cache and optimal boundary, and keeps the descriptor its module opened (and claimed) on the base.
 */
public abstract class VirtualBdev extends Bdev {
    /** The module's read-write, claimed descriptor on the base bdev. */
    protected final BdevDesc base;

    protected VirtualBdev(String name, UUID uuid, String productName, BdevDesc base) {
        super(name, uuid, productName, base.bdev().blockSize(), base.bdev().numBlocks(), base.bdev().supportedIoTypes());
        this.base = base;
        writeCache(base.bdev().writeCache());
        optimalIoBoundary(base.bdev().optimalIoBoundary());
    }

    /** The descriptor on the base bdev. */
    public final BdevDesc baseDesc() {
        return base;
    }
}
