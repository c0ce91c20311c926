/** NVMe and NVMe-oF wire structures shared by the target and the host: no block layer, no threads. */
package io.keel.nvme;
