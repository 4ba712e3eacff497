/* io/nir.h - NIR graphs (the Neuromorphic Intermediate Representation,
 * HDF5) read and mapped to a norn network in euler mode.
 *
 * Reading (norn_nir_read): the layout NIR's reference writer produces
 * (shared/reference/nir.md 2.2): /version (optional), /node = the graph,
 * /node/type = "NIRGraph", /node/nodes/<key> one group per node with its
 * `type` and parameter datasets, /node/edges an (E, 2) array of key pairs.
 * Strings may be variable-length (UTF-8 or ASCII) or fixed-length;
 * numbers any integer or float type, or h5py's bool (an enum over int8),
 * converted to double; tuples may be 0-d (broadcast) or (k,) datasets;
 * `padding` an integer, a tuple or the string "same"/"valid"; datasets may
 * be chunked and compressed with any filter libhdf5 has (gzip, shuffle,
 * ...; szip when built with it): a filter it lacks (h5py's "lzf") is an
 * error naming the filter. Groups inside a node (metadata, input_type,
 * output_type) and datasets a node type does not use are ignored. Nodes
 * are listed in name order (h5py does not track creation order); keys may
 * contain '.'. An edge endpoint is resolved by exact key. An empty edge
 * list (h5py writes [] as a float64 (0,) dataset) means no edges. A nested
 * NIRGraph node is rejected ("flatten it first").
 *
 * Node types read: Input, Output, Affine, Linear, Scale, Conv1d, Conv2d,
 * SumPool2d, AvgPool2d, Flatten, Delay, Threshold, I, IF, LI, LIF,
 * CubaLI, CubaLIF. Shapes are re-derived from the Inputs forward with
 * NIR's formulas (conv/pool: floor((N + 2p - d(K - 1) - 1)/s + 1) per
 * axis, "same" keeps N and needs stride 1 and pads d(K-1)/2 before, the
 * rest after, as PyTorch; Flatten folds dims start_dim..end_dim, counted
 * without a batch dimension); a neuron node takes its input's shape (its
 * parameters may be 0-d, as Norse writes them, or one per neuron).
 *
 * Errors: where = the file as given, msg names the node, its type and the
 * dataset, e.g. "node 'conv1' (Conv2d): weight has 3 dimensions, expected
 * 4", "node 'x' has type 'Foo', not supported (supported: ...)". NORN_EIO
 * for a missing or unreadable file, NORN_EPARSE for a file that is not
 * HDF5 or is truncated or damaged, NORN_EINVAL for a graph that is not
 * valid NIR or that norn cannot map, NORN_ENOMEM.
 *
 * Mapping (norn_nir_map), in euler mode (Norse's discrete time; dt the
 * resolution in ms, 1 by default; NIR times in seconds as Norse writes
 * them, or in ms). Every neuron node becomes a population with a Norse
 * model; with tau in the time unit u (1 s or 1e-3 s), tau_inv = 1/(tau u)
 * in 1/s, rounded to float32 as Norse's `1 / tensor(tau)`:
 *   CubaLIF -> lif      tau_syn_inv, tau_mem_inv, v_leak, v_th = v_threshold,
 *                       v_reset (0 when absent)
 *   CubaLI  -> li       tau_syn_inv, tau_mem_inv, v_leak
 *   LIF     -> lif_box  tau_mem_inv = 1/tau, v_leak, v_th, v_reset
 *   LI      -> li_box   tau_mem_inv = 1/tau, v_leak
 *   IF      -> iaf      v_th = v_threshold, v_reset
 *   I       -> iaf      v_th = FLT_MAX (never fires), v_reset = 0: v += input
 *   Input   -> input    (a spike source, its shape flattened in C order)
 * Threshold is refused (not supported yet: euler mode has no stateless
 * threshold unit). Models take one value per parameter: a parameter that
 * differs between the neurons of a node is an error. r and w_in may differ:
 * they scale the node's input instead, weight (and bias) into neuron j
 * times r[j] w_in[j] (w_in only for Cuba*), which is exact for these
 * linear equations (the recorded current i is then r w_in I). Norse
 * exports r = w_in = 1. No dt enters the weights: a spike of weight w adds
 * w to i (lif, li), drives v by dt tau_mem_inv w (lif_box, li_box), adds w
 * to v (iaf), as in Norse.
 * The linear nodes between populations (Affine, Linear, Scale, Conv1d,
 * Conv2d, SumPool2d, AvgPool2d (= sum / (kH kW)), Flatten, Delay) are
 * composed, per source population, into explicit synapses: each source
 * neuron's unit vector is pushed through every path in double precision,
 * so convolutions and pooling expand into (pre, post, weight) with C-order
 * (C, H, W) indices, parallel paths and overlapping windows sum, exact
 * zeros are dropped, and weights are rounded to float32 once at the end.
 * One projection per (source, target, lag): lag 0 carries this step's
 * spikes (a target after its source, as Linear -> Cell), lag 1 the
 * previous step's: a Delay of one step (delay = dt) on the path, or a
 * target that comes before or is its source (a recurrent path, Norse's
 * W_rec z_{t-1}, with or without a one-step Delay). Other delays, and
 * differing delays within one Delay node, are errors. Populations are
 * ordered Inputs first, then topologically (ties and cycles broken by
 * key). Biases (Affine, Conv) are pushed the same way to the populations
 * they reach and become a constant input current there (one value per
 * neuron, added every step as Linear's bias; through a Delay: an error).
 * A node that outputs a voltage (LI, CubaLI, I) may only feed Outputs;
 * an Output must follow a neuron node, whose state is then recorded.
 *
 * Writing (norn_nir_write): DIR/model.yaml, an ordinary description
 * (simulation {mode: euler, resolution: dt, duration: steps dt},
 * populations, a spike_tensor stimulus reading the input file [T, n_in]
 * onto the Input populations (concatenated), a current_tensor per
 * population with a bias, projections `connect: {rule: from_list, file:
 * syn_<name>.npy}`, record of spikes and of every Output population's
 * state), next to the .npy files it references. model.yaml is removed
 * first and written last, every file atomically, so a failed write never
 * leaves a model.yaml that looks complete.
 *
 * Not thread-safe (libhdf5's serial build). HDF5's automatic error
 * printing is switched off (process wide). All memory from engine/mem.h.
 */
#ifndef NORN_NIR_H
#define NORN_NIR_H

#include <stdint.h>

#include "engine/err.h"

#define NORN_NIR_MAXDIM 8

typedef enum {
    NORN_NIR_INPUT = 0,
    NORN_NIR_OUTPUT,
    NORN_NIR_AFFINE,
    NORN_NIR_LINEAR,
    NORN_NIR_SCALE,
    NORN_NIR_CONV1D,
    NORN_NIR_CONV2D,
    NORN_NIR_SUMPOOL2D,
    NORN_NIR_AVGPOOL2D,
    NORN_NIR_FLATTEN,
    NORN_NIR_DELAY,
    NORN_NIR_THRESHOLD,
    NORN_NIR_I,
    NORN_NIR_IF,
    NORN_NIR_LI,
    NORN_NIR_LIF,
    NORN_NIR_CUBALI,
    NORN_NIR_CUBALIF,
    NORN_NIR_N_KINDS
} norn_nir_kind;

/* One dataset of a node, as read. */
typedef struct {
    char *name;
    int ndim;                          /* 0 for a scalar */
    uint64_t dims[NORN_NIR_MAXDIM];
    uint64_t n;                        /* product of dims */
    double *data;                      /* [n] C order; NULL for a string */
    char *str;                         /* a string dataset, else NULL */
} norn_nir_data;

typedef struct {
    int ndim;
    uint64_t dim[NORN_NIR_MAXDIM];
    uint64_t n;                        /* 0: not known (yet) */
} norn_nir_shape;

typedef struct {
    char *key;
    norn_nir_kind kind;
    norn_nir_data *data;
    uint32_t n_data;
    norn_nir_shape in, out;            /* derived */
    uint32_t *pred, n_pred;            /* node indices, in edge order */
    uint32_t *succ, n_succ;
    /* Conv1d/Conv2d/pools, resolved (Conv1d as a Conv2d with H = 1):
     * C_in, C_out, groups, kernel, stride, dilation, padding before, input
     * and output spatial sizes; scale: 1, or 1/(kH kW) for AvgPool2d. */
    uint64_t cin, cout, groups, k[2], s[2], d[2], p[2], ih[2], oh[2];
    double pool_scale;
} norn_nir_node;

typedef struct {
    char *path;                        /* as given */
    char *version;                     /* /version, or "" */
    norn_nir_node *nodes;              /* in key order */
    uint32_t n_nodes;
    uint32_t (*edges)[2];              /* [n_edges] (from, to) node indices */
    uint64_t n_edges;
} norn_nir_graph;

/* Reads and validates path (every node's datasets, shapes, edges). On
 * success *out is a new graph (free with norn_nir_graph_free). */
norn_status norn_nir_read(const char *path, norn_nir_graph **out, norn_err *err);
void norn_nir_graph_free(norn_nir_graph *g);
/* "Conv2d", ...; the dataset of node k named name, or NULL. */
const char *norn_nir_kind_name(norn_nir_kind k);
const norn_nir_data *norn_nir_find(const norn_nir_node *nd, const char *name);

typedef struct {
    double dt_ms;      /* the resolution, > 0; default 1 */
    int time_ms;       /* 0: NIR times (tau, delay) in s (Norse); 1: in ms */
} norn_nir_options;

#define NORN_NIR_MAX_PARAMS 5

typedef struct {
    char *name;                        /* a norn name made from the node key */
    uint32_t node;                     /* graph node index */
    norn_nir_kind kind;                /* its NIR type */
    norn_nir_shape shape;              /* its NIR shape (size = shape.n) */
    const char *model;                 /* "input", "lif", "li", "lif_box", "li_box", "iaf" */
    uint32_t size;
    int n_params;
    const char *param_name[NORN_NIR_MAX_PARAMS];
    float param[NORN_NIR_MAX_PARAMS];  /* float32, as the model uses them */
    float *bias;                       /* [size] constant input current, or NULL */
    int readout;                       /* feeds an Output: record its state */
    int spiking;
} norn_nir_pop;

typedef struct {
    char *name;
    uint32_t from, to;                 /* population indices */
    int lag;                           /* 0: same step, 1: next step */
    uint64_t n;                        /* synapses, rows sorted by (pre, post) */
    uint32_t *pre, *post;              /* local to from / to */
    float *weight;
    char via[160];                     /* the linear nodes on its paths, for messages */
} norn_nir_proj;

typedef struct {
    norn_nir_options opt;
    norn_nir_pop *pops;                /* in simulation order, Inputs first */
    uint32_t n_pops;
    norn_nir_proj *projs;
    uint32_t n_projs, cap_projs;
    uint64_t synapses;
} norn_nir_net;

/* Maps a graph read by norn_nir_read (see the top of this file). opt may
 * be NULL (dt 1 ms, times in s). Errors name the file and the node. */
norn_status norn_nir_map(const norn_nir_graph *g, const norn_nir_options *opt, norn_nir_net **out, norn_err *err);
void norn_nir_net_free(norn_nir_net *net);

typedef struct {
    uint64_t steps;          /* simulated steps T (> 0): duration = T dt */
    const char *input_file;  /* the spike tensor the yaml names (relative to
                                dir or absolute); NULL: "input.npy" */
    const char *name;        /* simulation.name, or NULL */
    const char *source;      /* the .nir path, for the header comment */
    const char *version;     /* NIR version, for the header comment */
} norn_nir_write_opts;

/* Writes dir/model.yaml and its .npy files (dir must exist). Returns
 * NORN_EIO when a file cannot be written (where = that file). */
norn_status norn_nir_write(const norn_nir_net *net, const char *dir, const norn_nir_write_opts *w, norn_err *err);

#endif
