/* io/build.h - turns a parsed description (io/desc.h) into a simulation
 * (engine/sim.h): populations with their initial state, synapse tables
 * built by the connection rules, stimuli, recorders. Reads the data files
 * the description names (.npy weights, delays, initial values, spike
 * files as .npy or .csv). Errors name the description item
 * ("file:line:col") and the problem; on failure nothing is left allocated.
 */
#ifndef NORN_BUILD_H
#define NORN_BUILD_H

#include "engine/sim.h"
#include "io/desc.h"

typedef struct {
    double build_s;          /* wall seconds to build everything */
    double connect_s;        /* of which building synapse tables */
    uint64_t synapses;
} norn_build_info;

norn_status norn_build(const norn_desc *d, norn_sim **out, norn_build_info *info, norn_err *err);

#endif
