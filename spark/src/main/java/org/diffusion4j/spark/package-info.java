/**
 * Sampling and evaluation of trained runs sharded over Apache Spark (Java API; Spark in provided scope).
 * Training stays on one node.
 */
package org.diffusion4j.spark;
