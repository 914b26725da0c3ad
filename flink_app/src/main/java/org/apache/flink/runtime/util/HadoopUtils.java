// Replaces Flink's HadoopUtils inside the shaded jar (relocated with it, see pom.xml): the Iceberg catalog
// and the S3 file system get an empty Hadoop Configuration instead of searching for Hadoop config files
// that do not exist on Managed Flink. Same approach as the aws-samples PyFlink IcebergSink example.
package org.apache.flink.runtime.util;

import org.apache.hadoop.conf.Configuration;

public final class HadoopUtils {
    private HadoopUtils() {}

    public static Configuration getHadoopConfiguration(
            org.apache.flink.configuration.Configuration flinkConfiguration) {
        return new Configuration(false);
    }
}
