// Counts, while the job runs, the source table's snapshots its streaming source skips: the unilake job chains
// it to its one Iceberg reader (flink_app/unilake_job/iceberg_stream.py). Iceberg's streaming source reads
// APPEND snapshots only (its incremental append scan); an OVERWRITE or DELETE snapshot committed while the
// job runs is skipped without a trace, its changes never reach the sinks. At start the job refuses a source
// table that has such snapshots (job.check_catalog); this operator covers the time after the start: a gauge
// in the kinesisanalytics group (Managed Flink forwards it to CloudWatch, where an alarm watches it) and a
// warning in the log naming each snapshot.
package unilake.flink;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import org.apache.flink.metrics.Gauge;
import org.apache.flink.streaming.api.operators.AbstractStreamOperator;
import org.apache.flink.streaming.api.operators.ChainingStrategy;
import org.apache.flink.streaming.api.operators.OneInputStreamOperator;
import org.apache.flink.streaming.api.watermark.Watermark;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.runtime.watermarkstatus.WatermarkStatus;
import org.apache.iceberg.DataOperations;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.Table;
import org.apache.iceberg.flink.TableLoader;

/**
 * Forwards everything unchanged. Every {@code checkIntervalMs} of processing time it refreshes the table and
 * publishes, as the gauge {@code metricName} of the group {@code metricGroup}, how many snapshots in the
 * table's history change rows other than by appending (anything but {@code append} and {@code replace}:
 * compaction rewrites the same rows). The same rule as the job's start check, so the gauge is 0 after a start
 * and counts only what was committed since. A failed refresh (a Glue or S3 hiccup) is logged and the last
 * count kept: a monitor never fails the job.
 */
public final class SkippedSnapshots<T> extends AbstractStreamOperator<T> implements OneInputStreamOperator<T, T> {

    private static final long serialVersionUID = 1L;

    /** Operations the streaming source reads (append) or may skip without losing a change (replace). */
    static final Set<String> STREAMABLE = Set.of(DataOperations.APPEND, DataOperations.REPLACE);

    private final TableLoader tableLoader;
    private final long checkIntervalMs;
    private final String metricGroup;
    private final String metricName;

    private transient Table table;
    private transient Map<Long, String> skipped;

    public SkippedSnapshots(TableLoader tableLoader, long checkIntervalMs, String metricGroup, String metricName) {
        if (checkIntervalMs <= 0) {
            throw new IllegalArgumentException("checkIntervalMs must be positive, got " + checkIntervalMs);
        }
        this.tableLoader = tableLoader;
        this.checkIntervalMs = checkIntervalMs;
        this.metricGroup = metricGroup;
        this.metricName = metricName;
        setChainingStrategy(ChainingStrategy.ALWAYS);
    }

    @Override
    public void open() throws Exception {
        super.open();
        skipped = new LinkedHashMap<>();
        tableLoader.open();
        table = tableLoader.loadTable();
        getMetricGroup().addGroup(metricGroup).gauge(metricName, (Gauge<Integer>) () -> skipped.size());
        check(now());
    }

    @Override
    public void processElement(StreamRecord<T> element) {
        output.collect(element);
    }

    @Override
    public void processWatermark(Watermark mark) {
        output.emitWatermark(mark);
    }

    @Override
    public void processWatermarkStatus(WatermarkStatus watermarkStatus) {
        output.emitWatermarkStatus(watermarkStatus);
    }

    @Override
    public void close() throws Exception {
        try {
            tableLoader.close();
        } finally {
            super.close();
        }
    }

    private long now() {
        return getProcessingTimeService().getCurrentProcessingTime();
    }

    private void check(long timestampMs) {
        try {
            table.refresh();
            Map<Long, String> found = new LinkedHashMap<>();
            for (Snapshot snapshot : table.snapshots()) {
                if (!STREAMABLE.contains(snapshot.operation())) {
                    found.put(snapshot.snapshotId(), snapshot.operation());
                }
            }
            for (Map.Entry<Long, String> entry : found.entrySet()) {
                if (!skipped.containsKey(entry.getKey())) {
                    LOG.warn(
                            "Source table {}: snapshot {} ({}) is not streamed (only appends are); its changes do "
                                    + "not reach the sinks. Producer contract: flink_app/README.md.",
                            table.name(), entry.getKey(), entry.getValue());
                }
            }
            skipped = found;
        } catch (RuntimeException e) {
            LOG.warn("Source table {}: could not refresh to look for skipped snapshots", table.name(), e);
        }
        getProcessingTimeService().registerTimer(now() + checkIntervalMs, this::check);
    }
}
