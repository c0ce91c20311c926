package io.keel.bdev.exec;

/**
 * The transport's half of a {@link RequestExecutor}: told once per request how it ended, on the executor's thread.
 * Called inside the submit call when the request ends at once (refused, cancelled, an empty range table), later
 * otherwise. The request's slot is free again by then, so the callback may submit the next request.
 */
@FunctionalInterface
public interface RequestDone<C> {
    /**
     * @param request what the transport passed when it submitted
     * @param detail for {@link RequestStatus#NVME_ERROR} {@code sct << 8 | sc}; for {@link RequestStatus#REFUSED}
     *     the negative errno; otherwise 0
     */
    void requestDone(C request, RequestStatus status, int detail);
}
