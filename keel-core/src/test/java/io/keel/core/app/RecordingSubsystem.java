package io.keel.core.app;

import java.util.List;
import java.util.function.Consumer;

/** A subsystem that records when it is initialised and finished, in a shared journal. */
final class RecordingSubsystem implements Subsystem {
    private final String name;
    private final List<String> dependsOn;
    private final List<String> journal;

    RecordingSubsystem(String name, List<String> dependsOn, List<String> journal) {
        this.name = name;
        this.dependsOn = dependsOn;
        this.journal = journal;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public List<String> dependsOn() {
        return dependsOn;
    }

    @Override
    public void init(Consumer<Throwable> done) {
        journal.add("init " + name);
        done.accept(null);
    }

    @Override
    public void fini(Runnable done) {
        journal.add("fini " + name);
        done.run();
    }
}
