/**
 * The project's CXone simulator, as the tests use it. Every test imports it from here, so that
 * moving the simulator changes these lines only.
 */

export * from '../../simulator/outsider.js';
export * from '../../simulator/simulator-data.js';
export * from '../../simulator/simulator-server.js';
