// The watermark of a quiet source follows the clock: the unilake job chains it to its one Iceberg reader
// (flink_app/unilake_job/iceberg_stream.py). The reader's split watermarks (the minimum event time of each
// file it starts) close a window only once a later file starts past it, so in a quiet period the newest
// windows would wait for the next commit. After idleTimeoutMs of processing time with neither a record nor a
// watermark from the reader (and its output not back-pressured), this operator emits the watermark
// now - idleTimeoutMs, and again every tick while the quiet lasts: the newest windows close within
// (idle timeout + window size + one checkpoint) of the last commit. The contract it rests on (flink_app/
// README.md, "Quiet periods"): a record is committed to the source table within (idle timeout - monitor
// interval) of its event time; a record committed later into a quiet source is behind the watermark, LATE in
// quarantine and counted, never dropped.
package unilake.flink;

import org.apache.flink.runtime.io.network.api.writer.ResultPartitionWriter;
import org.apache.flink.streaming.api.operators.AbstractStreamOperator;
import org.apache.flink.streaming.api.operators.ChainingStrategy;
import org.apache.flink.streaming.api.operators.OneInputStreamOperator;
import org.apache.flink.streaming.api.watermark.Watermark;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.runtime.watermarkstatus.WatermarkStatus;

/**
 * Forwards records and rising watermarks unchanged; while its input is quiet for {@code idleTimeoutMs}, emits
 * {@code now - idleTimeoutMs} as the watermark when that is higher than the last one emitted. Never emits a
 * lower watermark than before (a split watermark behind a clock watermark is absorbed) and never an idle
 * status: there is one reader, whose watermark nothing else can replace. Stateless: after a restore the quiet
 * is counted from the operator's start.
 */
public final class QuietWatermark<T> extends AbstractStreamOperator<T> implements OneInputStreamOperator<T, T> {

    private static final long serialVersionUID = 1L;

    /** How often the operator looks at its output and, when quiet, moves the watermark on (at most). */
    static final long MAX_TICK_MS = 1_000L;

    private final long idleTimeoutMs;

    private transient long lastActivityMs;
    private transient long emittedWatermark;

    public QuietWatermark(long idleTimeoutMs) {
        if (idleTimeoutMs <= 0) {
            throw new IllegalArgumentException("idleTimeoutMs must be positive, got " + idleTimeoutMs);
        }
        this.idleTimeoutMs = idleTimeoutMs;
        // Chained to the reader: it sees the reader's whole output, and its output is the reader's task's.
        setChainingStrategy(ChainingStrategy.ALWAYS);
    }

    public long getIdleTimeoutMs() {
        return idleTimeoutMs;
    }

    @Override
    public void open() throws Exception {
        super.open();
        emittedWatermark = Long.MIN_VALUE;
        lastActivityMs = now();
        checkAt(lastActivityMs + tickMs());
    }

    @Override
    public void processElement(StreamRecord<T> element) {
        lastActivityMs = now();
        output.collect(element);
    }

    @Override
    public void processWatermark(Watermark mark) {
        lastActivityMs = now();
        emit(mark.getTimestamp());
    }

    @Override
    public void processWatermarkStatus(WatermarkStatus watermarkStatus) {
        // Absorbed: an idle status would make the operators behind ignore the clock watermarks.
    }

    private long now() {
        return getProcessingTimeService().getCurrentProcessingTime();
    }

    private long tickMs() {
        return Math.min(MAX_TICK_MS, idleTimeoutMs);
    }

    private void checkAt(long timestampMs) {
        getProcessingTimeService().registerTimer(timestampMs, this::check);
    }

    /** Every tick: a back-pressured output counts as activity (records may wait behind its full buffers: a
     * stalled reader is not a quiet one); quiet for the idle timeout, the watermark follows the clock. */
    private void check(long timestampMs) {
        long current = now();
        if (backPressured()) {
            lastActivityMs = current;
        }
        if (current - lastActivityMs >= idleTimeoutMs) {
            emit(current - idleTimeoutMs);
        }
        checkAt(current + tickMs());
    }

    private boolean backPressured() {
        for (ResultPartitionWriter writer : getContainingTask().getEnvironment().getAllWriters()) {
            if (!writer.isAvailable()) {
                return true;
            }
        }
        return false;
    }

    private void emit(long timestamp) {
        if (timestamp > emittedWatermark) {
            emittedWatermark = timestamp;
            output.emitWatermark(new Watermark(timestamp));
        }
    }
}
