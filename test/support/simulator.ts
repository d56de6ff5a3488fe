/**
 * The project's CXone simulator, as the tests use it. Every test imports it from here, so that
 * moving the simulator changes these lines only.
 */
export * from '../../connectors/cxone/simulator/simulator-data.js';
export * from '../../connectors/cxone/simulator/simulator-server.js';
