package io.keel.core.thread;

/**
 * A message: a function and its argument, run on the receiving lightweight thread. A non-capturing
 * function with an explicit argument lets hot paths send messages without allocating (SPDK's
 * {@code spdk_msg_fn} and its {@code ctx}).
 */
@FunctionalInterface
public interface MessageFn<T> {
    void run(T arg);
}
