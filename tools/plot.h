/* tools/plot.h - pictures of a run (cairo): spike rasters, state traces and
 * weight distributions.
 *
 * Every picture has a title, a grey subtitle with what it shows, nice round
 * ticks and axis labels with units. The output type follows the file
 * name's extension (case-insensitive): .png (24-bit RGB), .svg or .pdf
 * (page size in points, images embedded at one pixel per point). Sizes are
 * 320..8192 x 240..8192; text scales with min(width/1200, height/800), but
 * not below 0.85. Output files are written to a temporary name and renamed
 * (io/atomic.h): a failure never leaves a file that looks whole, nor
 * replaces an existing one. Single-threaded; no global state. All heap
 * memory comes from engine/mem.h and is freed before returning.
 *
 * Raster: a raster on top (x = time in ms, y = global neuron id, one
 * colour per population, population names and mean rates at the right) and
 * below it the population rate histogram (spikes per bin / (neurons * bin),
 * in Hz, one step curve per population).
 * Cost: one pass over the spikes, O(n + width * height) time, about
 * 8 bytes per raster pixel plus the image surface. The raster is not drawn
 * spike by spike: spikes are counted per pixel and the counts drawn as one
 * image, so millions of spikes cost as little as thousands. Each pixel's
 * opacity is that of k stacked translucent marks (k = its spike count),
 * with the single-mark opacity chosen so the densest 2% of pixels are
 * nearly opaque: sparse rasters show every spike in full colour, dense ones
 * show rate as colour density. When neurons are taller than a pixel each
 * spike is a vertical tick three quarters of the neuron's row high; when a
 * raster is sparse (two-pixel marks would cover at most 6% of it) its
 * marks are two pixels wide (and high). A pixel row holding
 * several neurons shows all of them (no neuron is left out). Histogram
 * bins are 1, 2 or 5 times a power of ten ms, the smallest giving at most
 * 400 bins (and at most one per two pixels): 1 ms for 300 ms, 5 ms for 1 s.
 *
 * Traces: one panel per state variable, stacked on a shared time axis,
 * one line per neuron (colours of the palette below by position in the
 * shown list, a legend of them above the panels), the shown neurons'
 * spikes as short ticks in a strip at the top of each panel (one row per
 * neuron), an optional dashed threshold line. More than 10 neurons are
 * drawn translucent and the mean over them as a dark line (the legend
 * says so), with spikes in one row. A panel's y range is its data in the
 * window (5% margin each side) and the threshold when that is near the
 * data. Non-finite samples leave a gap. Cost: O(samples * columns) time;
 * lines with more samples than pixel columns are drawn through each
 * column's first, lowest, highest and last sample (the same picture as
 * every sample, at most 4 points per column); memory 8 bytes per sample
 * for the mean when there is one. 100 neurons x 10,000 samples: 0.9 s.
 *
 * Weights: a histogram of the last snapshot's weights on top (with its
 * mean as a dashed line) and below it their evolution: time on x, weight
 * on y, each pixel column the weight histogram of the nearest snapshot in
 * time, colour = synapses per bin (white = none, then light to dark blue,
 * scale at the right), and the mean weight per snapshot as an orange line.
 * With a single snapshot, the histogram alone and a note. Both share the
 * weight bins: 1, 2 or 5 times a power of ten wide, about 2 n^(1/3) of
 * them (10..80) for n synapses in the last snapshot, covering every
 * snapshot's weights. Cost: O(rows log snapshots) time, memory 16 bytes
 * per snapshot plus 8 per bin and shown column.
 */
#ifndef NORN_PLOT_H
#define NORN_PLOT_H

#include <stdint.h>

#include "engine/err.h"

/* ---- raster ---- */

/* One population: global ids first_id .. first_id + size - 1. Borrowed.
 * colour: 0 = by position in the list; k >= 1 = the k-th colour of the
 * palette (blue, red, green, orange, purple, brown, pink, grey, olive,
 * cyan, then again), so that a population keeps its colour when others
 * are left out (`norn plot` passes its index in run.json + 1). */
typedef struct {
    const char *name;
    uint32_t first_id, size;
    uint32_t colour;
} norn_plot_pop;

/* Writes the raster of the spikes with t_from <= time_ms <= t_to (ms) of
 * the listed populations to out_path, width x height pixels (points for
 * SVG/PDF; 320..8192 x 240..8192). The spikes (time_ms[k], gid[k]),
 * k < n, need not be sorted; spikes of neurons in no listed population are
 * left out. Populations (1..65535) may not overlap; sizes must be >= 1. Arrays are borrowed.
 * Returns NORN_OK; NORN_EINVAL for bad arguments (where = the argument or
 * out_path, e.g. an unknown extension); NORN_ENOMEM; NORN_EIO if the file
 * cannot be written (where = out_path). */
norn_status norn_plot_raster_file(const char *out_path, const double *time_ms, const uint32_t *gid,
                                  uint64_t n, const norn_plot_pop *pops, uint32_t n_pops,
                                  double t_from, double t_to, int width, int height, norn_err *err);

/* The same with a title line (UTF-8, copied; NULL gives "spike raster"),
 * e.g. "brunel - grid mode, 300 ms". A second line always gives neurons,
 * spikes, window and bin width. */
norn_status norn_plot_raster_titled(const char *out_path, const char *title, const double *time_ms,
                                    const uint32_t *gid, uint64_t n, const norn_plot_pop *pops,
                                    uint32_t n_pops, double t_from, double t_to, int width,
                                    int height, norn_err *err);

/* ---- traces ---- */

/* One state variable: one panel. All borrowed. */
typedef struct {
    const char *name;           /* "V_m" (UTF-8) */
    const char *unit;           /* "mV", or NULL / "" for none: the axis reads "V_m (mV)" or "V_m" */
    const double *time_ms;      /* [n_samples], finite, non-decreasing */
    uint64_t n_samples;
    uint32_t n_cols;            /* recorded neurons, >= 1 */
    const uint32_t *neuron;     /* [n_cols] neuron index of each column (distinct); NULL: 0..n_cols-1 */
    const double *data;         /* [n_samples][n_cols], row-major; a non-finite value is a gap */
    const char *threshold_name; /* a dashed line at threshold labelled this at the right ("V_th"); */
    double threshold;           /* NULL name or a non-finite value: none */
} norn_plot_trace_var;

typedef struct {
    const char *title;    /* UTF-8, copied; NULL gives "state traces" */
    const char *subtitle; /* NULL: variables, neurons, sampling interval, spikes, window */
    const norn_plot_trace_var *vars;
    uint32_t n_vars;      /* panels, top to bottom: 1..8 */
    const uint32_t *show; /* [n_show] neuron indices to draw, distinct, each a column of some variable;
                             colours and legend follow this order */
    uint32_t n_show;      /* >= 1 */
    const double *spike_ms;       /* [n_spikes] spike times (any order); those of */
    const uint32_t *spike_neuron; /* [n_spikes] shown neurons (same indices) in the window are marked */
    uint64_t n_spikes;            /* may be 0 (arrays then may be NULL) */
    double t_from, t_to;  /* window, ms, t_from < t_to */
    int width, height;    /* pixels (points for SVG/PDF) */
} norn_plot_traces;

/* Draws the traces to out_path. Returns NORN_OK; NORN_EINVAL for bad
 * arguments (where = "plot", or out_path for an unknown extension);
 * NORN_ENOMEM; NORN_EIO if the file cannot be written (where = out_path). */
norn_status norn_plot_traces_file(const char *out_path, const norn_plot_traces *tr, norn_err *err);

/* The unit of state variable var of model (as run.json names them) in
 * mode ("continuous", "grid", "euler"; NULL = not euler), for axis labels:
 * the model's table (models/model.h, or models/euler.h in euler mode),
 * where "1" means none; for a model it does not know, by the name's
 * prefix: V_ mV, I_ pA, g_ nS (none in euler mode). NULL for none. The
 * string is static. */
const char *norn_plot_state_unit(const char *model, const char *mode, const char *var);

/* The unit of a weight onto a neuron of model in mode: nS for a model with
 * conductances (a state variable g_*), pA with synaptic currents (I_syn*),
 * mV otherwise (delta synapses); NULL in euler mode or for an unknown
 * model. Static. */
const char *norn_plot_weight_unit(const char *model, const char *mode);

/* ---- weights ---- */

typedef struct {
    const char *title;    /* UTF-8, copied; NULL gives "synaptic weights" */
    const char *subtitle; /* NULL: synapses, snapshots, final mean and sd */
    const char *unit;     /* of the weights: "pA"; NULL / "" for none */
    const double *time_ms; /* [n] snapshot time of each row, finite; rows with equal times are a snapshot */
    const double *weight;  /* [n] finite; rows in any order */
    uint64_t n;            /* >= 1 */
    int width, height;
} norn_plot_weights;

/* Draws the weights to out_path; returns as norn_plot_traces_file. */
norn_status norn_plot_weights_file(const char *out_path, const norn_plot_weights *w, norn_err *err);

/* ---- the command ---- */

/* The `norn plot` subcommand; argv[0] is "plot":
 *   norn plot raster DIR [-o FILE] [--from MS] [--to MS] [--population NAME]...
 *                        [--width PX] [--height PX]
 *   norn plot traces DIR [-o FILE] [--population NAME] [--variable V]...
 *                        [--neurons LIST] [--from MS] [--to MS] [--width PX] [--height PX]
 *   norn plot weights DIR [--projection NAME] [-o FILE] [--width PX] [--height PX]
 *   norn plot --help
 * Each reads DIR/run.json (populations, models, parameters, duration,
 * name, mode; "recordings" when present).
 * raster: DIR/spikes.npy; FILE defaults to DIR/raster.png. Populations
 *   whose spikes were not recorded are left out unless named.
 * traces: DIR/state_<pop>_<var>.npy (float32 [samples, recorded neurons])
 *   with DIR/state_<pop>_times.npy when present and as long, else
 *   DIR/state_times.npy; the recorded neurons' indices from run.json's
 *   "recordings" ([{population, variables, neurons, interval_ms}]), else
 *   0..k-1; spikes from DIR/spikes.npy when present. Default population:
 *   the first in run.json with recorded state; variables: all recorded
 *   (--variable takes one or a comma list, and may repeat); neurons: all
 *   recorded (--neurons 0,2,5-7). FILE defaults to DIR/traces.png.
 * weights: DIR/weights_<NAME>.npy, a structured array with fields pre,
 *   post, weight and time_ms (weight and time_ms are read, in any order and
 *   of any numeric type; other fields are skipped), one block of rows per
 *   snapshot; --projection may be left out when DIR holds one weights
 *   file. The weights' unit is that of the targets' models (run.json's
 *   projections[NAME].to) when they agree. FILE defaults to
 *   DIR/weights_<NAME>.png.
 * Returns the exit code: 0 ok (one line "wrote FILE" on stdout); 2 bad
 * input (command line, DIR, run.json, the data files, extension, nothing
 * recorded) with one line "norn: where: what" on stderr and no file
 * written; 1 failure while writing (memory, disk). */
int norn_cli_plot(int argc, char **argv);

#endif
