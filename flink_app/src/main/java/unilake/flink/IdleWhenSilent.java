// Marks a stream idle when its input falls silent: the unilake job puts it right after the Iceberg source
// (flink_app/unilake_job/iceberg_stream.py). Why not WatermarkStrategy.withIdleness on the source: in Flink
// 1.20 a FLIP-27 reader whose splits are finished has no split output left to go idle, so it keeps its last
// split watermark forever and holds back every window until it gets a new split (at parallelism 4 with one
// file per commit, a window closed only once each of the four readers had started a newer file); and a reader
// that never got a split is idle only through its main output. This operator sees one reader's whole output
// and needs neither: no record and no watermark for the idle timeout, and the reader stops holding the
// watermark back; it is active again with its next record or watermark.
package unilake.flink;

import org.apache.flink.streaming.api.operators.AbstractStreamOperator;
import org.apache.flink.streaming.api.operators.ChainingStrategy;
import org.apache.flink.streaming.api.operators.OneInputStreamOperator;
import org.apache.flink.streaming.api.watermark.Watermark;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.runtime.watermarkstatus.WatermarkStatus;

/**
 * Forwards records, watermarks and watermark statuses unchanged, and marks its output {@link
 * WatermarkStatus#IDLE} once neither a record nor a watermark has arrived for {@code idleTimeoutMs}
 * milliseconds of processing time, or while its input is idle itself. The next record or watermark makes it
 * {@link WatermarkStatus#ACTIVE} again, before it is forwarded. Stateless: after a restore it starts active.
 */
public final class IdleWhenSilent<T> extends AbstractStreamOperator<T>
        implements OneInputStreamOperator<T, T> {

    private static final long serialVersionUID = 1L;

    private final long idleTimeoutMs;

    private transient long lastActivityMs;
    private transient boolean silent;
    private transient boolean inputIdle;
    private transient boolean emittedIdle;

    public IdleWhenSilent(long idleTimeoutMs) {
        if (idleTimeoutMs <= 0) {
            throw new IllegalArgumentException("idleTimeoutMs must be positive, got " + idleTimeoutMs);
        }
        this.idleTimeoutMs = idleTimeoutMs;
        // Chained to the source: it sees exactly one reader's output.
        setChainingStrategy(ChainingStrategy.ALWAYS);
    }

    public long getIdleTimeoutMs() {
        return idleTimeoutMs;
    }

    @Override
    public void open() throws Exception {
        super.open();
        lastActivityMs = now();
        checkAt(lastActivityMs + idleTimeoutMs);
    }

    @Override
    public void processElement(StreamRecord<T> element) {
        activity();
        output.collect(element);
    }

    @Override
    public void processWatermark(Watermark mark) throws Exception {
        activity();
        super.processWatermark(mark);
    }

    @Override
    public void processWatermarkStatus(WatermarkStatus watermarkStatus) {
        inputIdle = watermarkStatus.isIdle();
        emitStatus();
    }

    private long now() {
        return getProcessingTimeService().getCurrentProcessingTime();
    }

    private void activity() {
        lastActivityMs = now();
        if (silent) {
            silent = false;
            emitStatus();
        }
    }

    private void checkAt(long timestampMs) {
        getProcessingTimeService().registerTimer(timestampMs, this::check);
    }

    private void check(long timestampMs) {
        long current = now();
        if (!silent && current - lastActivityMs >= idleTimeoutMs) {
            silent = true;
            emitStatus();
        }
        checkAt(silent ? current + idleTimeoutMs : lastActivityMs + idleTimeoutMs);
    }

    private void emitStatus() {
        boolean idle = silent || inputIdle;
        if (idle != emittedIdle) {
            emittedIdle = idle;
            output.emitWatermarkStatus(idle ? WatermarkStatus.IDLE : WatermarkStatus.ACTIVE);
        }
    }
}
