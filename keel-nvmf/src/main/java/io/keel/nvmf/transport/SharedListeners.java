package io.keel.nvmf.transport;

import io.keel.nvmf.ctrlr.ListenAddress;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * A transport's listeners by address, each shared by every subsystem that listens there: opened by the first
 * {@link #listen}, closed by the matching last {@link #stopListening}. Application thread only.
 *
 * @param <L> the transport's listener
 */
public final class SharedListeners<L> {
    /** Opens the listener of an address (binds it and starts accepting). */
    public interface Opener<L> {
        L open(ListenAddress address) throws IOException;
    }

    private static final class Shared<L> {
        final L listener;
        int users;

        Shared(L listener) {
            this.listener = listener;
        }
    }

    private final Map<ListenAddress, Shared<L>> byAddress = new LinkedHashMap<>();
    private final Opener<L> opener;
    private final Consumer<L> closer;

    public SharedListeners(Opener<L> opener, Consumer<L> closer) {
        this.opener = opener;
        this.closer = closer;
    }

    /** One more user of {@code address}; opens its listener first when it has none. Whether it was opened now. */
    public boolean listen(ListenAddress address) throws IOException {
        Shared<L> s = byAddress.get(address);
        boolean opened = s == null;
        if (opened) {
            s = new Shared<>(opener.open(address));
            byAddress.put(address, s);
        }
        s.users++;
        return opened;
    }

    /** One user fewer of {@code address}; the last closes its listener. Whether it was closed now. */
    public boolean stopListening(ListenAddress address) {
        Shared<L> s = byAddress.get(address);
        if (s == null || --s.users > 0) {
            return false;
        }
        byAddress.remove(address);
        closer.accept(s.listener);
        return true;
    }

    /** Closes every listener (the transport stops). */
    public void closeAll() {
        List<Shared<L>> all = new ArrayList<>(byAddress.values());
        byAddress.clear();
        all.forEach(s -> closer.accept(s.listener));
    }
}
