package io.keel.vhost.initiator;

import io.keel.core.sys.Libc;
import io.keel.core.sys.UnixSocket;
import io.keel.vhost.blk.VirtioBlkConfig;
import io.keel.vhost.blk.VirtioBlkFeatures;
import io.keel.vhost.user.ConfigPayload;
import io.keel.vhost.user.MessageReader;
import io.keel.vhost.user.MessageWriter;
import io.keel.vhost.user.ProtocolFeatures;
import io.keel.vhost.user.VhostUserMessage;
import io.keel.vhost.user.VhostUserRequest;
import io.keel.vhost.virtio.VirtioFeatures;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A back end played by a test thread from a script: it answers the questions a front end asks first (a 4 MiB
 * virtio-blk device with one queue) and acknowledges what asks for it, except {@link #silentOn} requests, which it
 * takes and never answers (a back end that hangs mid-setup). Records the requests it saw, in order.
 */
final class ScriptedBackEnd implements AutoCloseable {
    private final Arena arena = Arena.ofShared();
    private final MemorySegment cs = Libc.callState(arena);
    private final MessageReader reader = new MessageReader(arena);
    private final MessageWriter writer = new MessageWriter(arena);
    private final int listener;
    private final int silentOn;
    private final Thread thread;
    final List<String> seen = new ArrayList<>();
    private volatile boolean stop;

    ScriptedBackEnd(Path path, int silentOn) {
        this.silentOn = silentOn;
        listener = UnixSocket.listen(path.toString(), 1, cs);
        if (listener < 0) {
            throw new IllegalStateException("listen: " + Libc.strerror(-listener));
        }
        thread = Thread.ofPlatform().name("scripted-back-end").start(this::serve);
    }

    private void serve() {
        int fd;
        while ((fd = UnixSocket.accept(listener, cs)) < 0) {
            if (stop) {
                return;
            }
            Thread.onSpinWait();
        }
        try {
            while (!stop) {
                MessageReader.Result r = reader.read(fd, cs);
                if (r == MessageReader.Result.AGAIN) {
                    Thread.onSpinWait();
                    continue;
                }
                if (r != MessageReader.Result.MESSAGE) {
                    return;
                }
                int request = reader.message().request();
                boolean ack = reader.message().needReply();
                reader.finish();
                synchronized (seen) {
                    seen.add(VhostUserRequest.name(request));
                }
                if (request != silentOn) {
                    answer(fd, request, ack);
                }
            }
        } finally {
            Libc.closeQuietly(fd);
        }
    }

    private void answer(int fd, int request, boolean ack) {
        VhostUserMessage m = writer.message();
        int size = 8;
        switch (request) {
            case VhostUserRequest.GET_FEATURES -> m.u64(VirtioFeatures.bit(VirtioFeatures.VERSION_1)
                    | VirtioFeatures.bit(ProtocolFeatures.VHOST_USER_F_PROTOCOL_FEATURES)
                    | 1L << VirtioBlkFeatures.BLK_SIZE);
            case VhostUserRequest.GET_PROTOCOL_FEATURES -> m.u64(1L << ProtocolFeatures.MQ
                    | 1L << ProtocolFeatures.REPLY_ACK | 1L << ProtocolFeatures.CONFIG);
            case VhostUserRequest.GET_QUEUE_NUM -> m.u64(1);
            case VhostUserRequest.GET_CONFIG -> {
                MemorySegment p = m.payload();
                ConfigPayload.header(p, 0, VirtioBlkConfig.BYTES, 0);
                new VirtioBlkConfig(p.asSlice(ConfigPayload.HEADER_BYTES, VirtioBlkConfig.BYTES)).capacity(8192)
                        .blkSize(512);
                size = ConfigPayload.HEADER_BYTES + VirtioBlkConfig.BYTES;
            }
            default -> {
                if (!ack) {
                    return;
                }
                m.u64(0);
            }
        }
        m.replyHeader(request, size);
        writer.send(fd, 0, cs);
    }

    List<String> seen() {
        synchronized (seen) {
            return List.copyOf(seen);
        }
    }

    @Override
    public void close() throws InterruptedException {
        stop = true;
        thread.join(5000);
        Libc.closeQuietly(listener);
        arena.close();
    }
}
