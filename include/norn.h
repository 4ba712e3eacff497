/* norn.h - the public C API of norn, an event-driven simulator for large
 * sparse spiking neural networks. One umbrella header; each module's header
 * states its own contract.
 *
 *   engine/sim.h        build a network (populations, synapse tables,
 *                       stimuli, recorders), run it, read its results
 *   models/model.h      neuron models, their parameters and state
 *   connectivity/csr.h  synapse tables and connection rules
 *   io/desc.h           YAML/JSON network descriptions
 *   io/build.h          description -> simulation
 *   io/output.h         results -> files (spikes.npy, spikes.csv, run.json)
 *   io/npy.h            NumPy .npy files
 *   io/checkpoint.h     checkpoint files: save a running simulation, resume it
 *
 * Errors: functions return norn_status and fill a norn_err (engine/err.h).
 * Memory: everything large comes from engine/mem.h (jemalloc).
 */
#ifndef NORN_H
#define NORN_H

#include "engine/err.h"
#include "engine/mem.h"
#include "engine/rng.h"
#include "engine/sim.h"
#include "engine/cell.h"
#include "models/model.h"
#include "models/euler.h"
#include "connectivity/csr.h"
#include "connectivity/dist.h"
#include "io/desc.h"
#include "io/build.h"
#include "io/output.h"
#include "io/checkpoint.h"
#include "io/npy.h"
#include "io/csv.h"
#include "io/sonata.h"

#endif
