/** Choosing where arrays live: CPU, one GPU, or one device per worker. */
package org.diffusion4j.device;
