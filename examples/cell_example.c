/* examples/cell_example.c - Norse's seed example with norn's cell API.
 *
 * A LIF cell with Norse's default parameters (tau_syn_inv 200, tau_mem_inv
 * 100, v_leak 0, v_th 1, v_reset 0; dt = 0.001 s) fed the constant inputs
 * 0.0, 0.1 and 0.3 for 100 steps, as
 *
 *   cell = norse.torch.LIFCell()
 *   state = None
 *   for t in range(100):
 *       z, state = cell(torch.tensor([[0.0, 0.1, 0.3]]), state)
 *
 * Prints the voltage at a few steps and each neuron's first spike. Norse
 * gives the same numbers bit for bit: only 0.3 spikes, first at step 15 and
 * then every 11 steps; 0.1 rises toward 0.5 (0.49997604 at step 99).
 */
#include <stdio.h>

#include "engine/cell.h"
#include "engine/err.h"

int main(void)
{
    enum { N = 3, T = 100 };
    const float input[N] = {0.0f, 0.1f, 0.3f};
    const int show[] = {0, 1, 14, 15, 16, 50, 99};
    norn_err err;
    char msg[600];
    norn_cell *cell = NULL;
    /* no parameters given: Norse's defaults */
    if (norn_cell_create("lif", N, NULL, NULL, 0, 0.001, &cell, &err) != NORN_OK) {
        fprintf(stderr, "cell_example: %s\n", norn_err_format(&err, msg, sizeof msg));
        return 1;
    }
    norn_cell_state *state = NULL; /* Norse's state=None: made by the first step */
    int first[N] = {-1, -1, -1}, count[N] = {0, 0, 0}, k = 0;
    printf("LIF cell, Norse's default parameters, dt = 0.001, inputs %.1f %.1f %.1f\n", (double)input[0],
           (double)input[1], (double)input[2]);
    for (int t = 0; t < T; t++) {
        float z[N], v[N];
        if (norn_cell_step(cell, input, &state, z, &err) != NORN_OK ||
            norn_cell_state_get(state, "v", v, &err) != NORN_OK) {
            fprintf(stderr, "cell_example: %s\n", norn_err_format(&err, msg, sizeof msg));
            norn_cell_state_destroy(state);
            norn_cell_destroy(cell);
            return 1;
        }
        for (int j = 0; j < N; j++)
            if (z[j] != 0.0f) {
                count[j]++;
                if (first[j] < 0)
                    first[j] = t;
            }
        if (k < (int)(sizeof show / sizeof show[0]) && t == show[k]) {
            printf("step %2d: v = %-11.8g %-11.8g %-11.8g spikes %g %g %g\n", t, (double)v[0], (double)v[1],
                   (double)v[2], (double)z[0], (double)z[1], (double)z[2]);
            k++;
        }
    }
    for (int j = 0; j < N; j++) {
        if (first[j] >= 0)
            printf("input %.1f: first spike at step %d, %d spikes in %d steps\n", (double)input[j], first[j],
                   count[j], T);
        else
            printf("input %.1f: no spike in %d steps\n", (double)input[j], T);
    }
    norn_cell_state_destroy(state);
    norn_cell_destroy(cell);
    return 0;
}
