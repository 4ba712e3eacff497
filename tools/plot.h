/* tools/plot.h - spike raster plots (cairo).
 *
 * One picture: a raster on top (x = time in ms, y = global neuron id, one
 * colour per population, population names and mean rates at the right) and
 * below it the population rate histogram (spikes per bin / (neurons * bin),
 * in Hz, one step curve per population), with nice round ticks, axis labels
 * with units and a title. The output type follows the file name's extension
 * (case-insensitive): .png (24-bit RGB), .svg or .pdf (page size in points,
 * the raster embedded as an image at one pixel per point).
 *
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
 * The output file is written to a temporary name and renamed
 * (io/atomic.h): a failure never leaves a file that looks whole, nor
 * replaces an existing one. Single-threaded; no global state.
 */
#ifndef NORN_PLOT_H
#define NORN_PLOT_H

#include <stdint.h>

#include "engine/err.h"

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

/* The `norn plot` subcommand; argv[0] is "plot":
 *   norn plot raster DIR [-o FILE] [--from MS] [--to MS] [--population NAME]...
 *                        [--width PX] [--height PX]
 *   norn plot --help
 * Reads DIR/run.json (populations, duration, name, mode) and
 * DIR/spikes.npy; FILE defaults to DIR/raster.png. Populations whose
 * spikes were not recorded are left out unless named. Returns the exit
 * code: 0 ok (one line "wrote FILE" on stdout); 2 bad input (command line,
 * DIR, run.json, spikes.npy, extension) with one line "norn: where: what"
 * on stderr and no file written; 1 failure while writing (memory, disk). */
int norn_cli_plot(int argc, char **argv);

#endif
