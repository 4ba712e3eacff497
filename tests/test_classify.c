/* tests/test_classify.c - norn classify: event-driven inference over a
 * data set equals a dense forward pass through Norse's cells, sample by
 * sample, and the network's reset between samples leaves nothing behind. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/cell.h"
#include "engine/mem.h"
#include "io/npy.h"
#include "testutil.h"
#include "tools/classify.h"
#include "tools/import.h"

enum { NIN = 64, NH = 32, NO = 10, NS = 40, T = 32 };

static float w1[NH][NIN], w2[NO][NH];
static double X[NS][NIN];

static uint64_t lcg(uint64_t *x)
{
    *x = *x * 6364136223846793005ULL + 1442695040888963407ULL;
    return *x >> 33;
}

/* A two-layer network (input -> lif -> li) with weights on a 2^-10 grid,
 * so float32 sums are exact in any order, and byte images. */
static char *make_net(void)
{
    uint64_t x = 7;
    for (int i = 0; i < NH; i++)
        for (int j = 0; j < NIN; j++)
            w1[i][j] = (float)((int)(lcg(&x) % 800) - 200) / 1024.0f;
    for (int i = 0; i < NO; i++)
        for (int j = 0; j < NH; j++)
            w2[i][j] = (float)((int)(lcg(&x) % 600) - 300) / 1024.0f;
    for (int k = 0; k < NS; k++)
        for (int j = 0; j < NIN; j++)
            X[k][j] = (double)(lcg(&x) % 256);
    char *dir = tu_tmpdir(), path[4096];
    norn_err e;
    uint64_t s1[2] = {NH, NIN}, s2[2] = {NO, NH}, sx[3] = {NS, 8, 8};
    snprintf(path, sizeof path, "%s/w1.npy", dir);
    ck_assert_int_eq(norn_npy_write_f32(path, &w1[0][0], 2, s1, &e), NORN_OK);
    snprintf(path, sizeof path, "%s/w2.npy", dir);
    ck_assert_int_eq(norn_npy_write_f32(path, &w2[0][0], 2, s2, &e), NORN_OK);
    snprintf(path, sizeof path, "%s/X.npy", dir);
    ck_assert_int_eq(norn_npy_write_f64(path, &X[0][0], 3, sx, &e), NORN_OK);
    free(tu_write(dir, "net.yaml",
                  "simulation: {duration: 32, resolution: 1, mode: euler}\n"
                  "populations:\n  x: {model: input, size: 64}\n  h: {model: lif, size: 32}\n"
                  "  o: {model: li, size: 10}\n"
                  "projections:\n  - {from: x, to: h, weight: {file: w1.npy}}\n"
                  "  - {from: h, to: o, weight: {file: w2.npy}}\n"));
    return dir;
}

static int run_cli(const char *dir, char **out, char **err, ...)
{
    va_list ap;
    va_start(ap, err);
    int rc = tu_cli(norn_cli_classify, "classify", dir, out, err, ap);
    va_end(ap);
    return rc;
}

/* The dense forward pass: the encoder, then Norse's LIF cell with W_in =
 * w1 and Norse's LI cell with W_in = w2, max over time of v. */
static void dense_scores(int k, float *sc)
{
    norn_cell *enc, *lif, *li;
    norn_err e;
    ck_assert_int_eq(norn_cell_create("lif_encoder", NIN, NULL, NULL, 0, 0.001, &enc, &e), NORN_OK);
    ck_assert_int_eq(norn_cell_create_recurrent("lif", NH, NIN, &w1[0][0], NULL, NULL, NULL, 0, 0.001, &lif, &e),
                     NORN_OK);
    ck_assert_int_eq(norn_cell_create_recurrent("li", NO, NH, &w2[0][0], NULL, NULL, NULL, 0, 0.001, &li, &e), NORN_OK);
    norn_cell_state *se = NULL, *sl = NULL, *so = NULL;
    float cur[NIN], z0[NIN], z1[NH], v[NO];
    for (int j = 0; j < NIN; j++)
        cur[j] = ((float)X[k][j] / 255.0f) * 4.0f;
    for (int j = 0; j < NO; j++)
        sc[j] = -INFINITY;
    for (int t = 0; t < T; t++) {
        ck_assert_int_eq(norn_cell_step(enc, cur, &se, z0, &e), NORN_OK);
        ck_assert_int_eq(norn_cell_step(lif, z0, &sl, z1, &e), NORN_OK);
        ck_assert_int_eq(norn_cell_step(li, z1, &so, v, &e), NORN_OK);
        for (int j = 0; j < NO; j++)
            if (v[j] > sc[j])
                sc[j] = v[j];
    }
    norn_cell_state_destroy(se);
    norn_cell_state_destroy(sl);
    norn_cell_state_destroy(so);
    norn_cell_destroy(enc);
    norn_cell_destroy(lif);
    norn_cell_destroy(li);
}

START_TEST(equals_dense_forward)
{
    char *dir = make_net(), *out = NULL, *err = NULL, path[4096];
    int rc = run_cli(dir, &out, &err, "DIR/net.yaml", "--images", "DIR/X.npy", "--div", "255", "--gain", "4", "-q",
                     "-o", "DIR/res", NULL);
    ck_assert_msg(rc == 0, "%s", err);
    ck_assert_ptr_nonnull(strstr(out, "40 samples, 32 steps each"));
    ck_assert_ptr_nonnull(strstr(out, "samples per second"));
    norn_npy_array sc, pr;
    norn_err e;
    snprintf(path, sizeof path, "%s/res/scores.npy", dir);
    ck_assert_int_eq(norn_npy_read(path, &sc, &e), NORN_OK);
    snprintf(path, sizeof path, "%s/res/predictions.npy", dir);
    ck_assert_int_eq(norn_npy_read(path, &pr, &e), NORN_OK);
    ck_assert_uint_eq(sc.count, NS * NO);
    int classes_seen[NO] = {0}, distinct = 0;
    for (int k = 0; k < NS; k++) {
        float want[NO];
        dense_scores(k, want);
        int best = 0;
        for (int j = 0; j < NO; j++) {
            ck_assert_msg((float)sc.data[k * NO + j] == want[j], "sample %d class %d: %.9g vs dense %.9g", k, j,
                          sc.data[k * NO + j], want[j]);
            if (want[j] > want[best])
                best = j;
        }
        ck_assert_int_eq((int)pr.data[k], best);
        distinct += !classes_seen[best]++;
    }
    ck_assert_msg(distinct >= 2, "every sample predicts the same class: the test would not see a mix-up");
    norn_npy_array_free(&sc);
    norn_npy_array_free(&pr);
    free(out);
    free(err);
}
END_TEST

/* Accuracy against labels and agreement with a reference are counted. */
START_TEST(labels_and_reference)
{
    char *dir = make_net(), *out = NULL, *err = NULL, path[4096];
    double lab[NS], ref[NS];
    for (int k = 0; k < NS; k++) {
        float s[NO];
        dense_scores(k, s);
        int best = 0;
        for (int j = 1; j < NO; j++)
            if (s[j] > s[best])
                best = j;
        lab[k] = k < 10 ? best : (best + 1) % NO; /* 10 right */
        ref[k] = k == 3 ? (best + 1) % NO : best; /* one disagreement */
    }
    norn_err e;
    uint64_t sh[1] = {NS};
    snprintf(path, sizeof path, "%s/y.npy", dir);
    ck_assert_int_eq(norn_npy_write_f64(path, lab, 1, sh, &e), NORN_OK);
    snprintf(path, sizeof path, "%s/ref.npy", dir);
    ck_assert_int_eq(norn_npy_write_f64(path, ref, 1, sh, &e), NORN_OK);
    int rc = run_cli(dir, &out, &err, "DIR/net.yaml", "--images", "DIR/X.npy", "--labels", "DIR/y.npy", "--reference",
                     "DIR/ref.npy", "--div", "255", "--gain", "4", "-q", NULL);
    ck_assert_msg(rc == 0, "%s", err);
    ck_assert_ptr_nonnull(strstr(out, "accuracy                0.2500 (10 / 40)"));
    ck_assert_ptr_nonnull(strstr(out, "0.9750 (39 / 40)"));
    ck_assert_ptr_nonnull(strstr(out, "  sample 3: norn "));
    free(out);
    free(err);
}
END_TEST

START_TEST(bad_input)
{
    char *dir = make_net(), *out = NULL, *err = NULL;
    ck_assert_int_eq(run_cli(dir, &out, &err, "DIR/net.yaml", NULL), 2);
    ck_assert_str_eq(err, "norn: classify: missing --images FILE\n");
    free(out), free(err), out = err = NULL;
    free(tu_write(dir, "bad.npy", "not an npy file"));
    ck_assert_int_eq(run_cli(dir, &out, &err, "DIR/net.yaml", "--images", "DIR/bad.npy", NULL), 2);
    ck_assert_ptr_nonnull(strstr(err, "bad.npy"));
    free(out), free(err), out = err = NULL;
    ck_assert_int_eq(run_cli(dir, &out, &err, "DIR/net.yaml", "--images", "DIR/w2.npy", NULL), 2);
    ck_assert_ptr_nonnull(strstr(err, "10 samples of 32 values; the input population 'x' has 64 neurons"));
    free(out), free(err), out = err = NULL;
    ck_assert_int_eq(run_cli(dir, &out, &err, "DIR/net.yaml", "--images", "DIR/X.npy", "--readout", "zz", NULL), 2);
    ck_assert_ptr_nonnull(strstr(err, "--readout: no population 'zz'"));
    free(out), free(err), out = err = NULL;
    ck_assert_int_eq(run_cli(dir, &out, &err, "DIR/net.yaml", "--images", "DIR/X.npy", "--variable", "q", NULL), 2);
    ck_assert_ptr_nonnull(strstr(err, "population 'o' has no state variable 'q'"));
    free(out), free(err), out = err = NULL;
    ck_assert_int_eq(run_cli(dir, &out, &err, "DIR/net.yaml", "--images", "DIR/X.npy", "--div", "0", NULL), 2);
    ck_assert_ptr_nonnull(strstr(err, "--div: expected a non-zero number, got '0'"));
    free(out), free(err);
}
END_TEST

/* The committed trained network (examples/mnist, from tools/train) imported
 * from NIR classifies the committed 200-digit test subset exactly as
 * PyTorch's forward pass did (test_subset_reference.npy): the same
 * prediction for every digit, hence the same accuracy. */
START_TEST(mnist_subset)
{
    char *dir = tu_tmpdir(), *out = NULL, *err = NULL, ex[4096], arg[5][4200];
    snprintf(ex, sizeof ex, "%s/examples/mnist", tu_src());
    snprintf(arg[0], sizeof arg[0], "%s/model.nir", ex);
    int rc = 0;
    {
        char *argv[] = {"import", arg[0], "-o", NULL, "--steps", "32", "-q", NULL};
        char model[4200];
        snprintf(model, sizeof model, "%s/m", dir);
        argv[3] = model;
        rc = norn_cli_import(7, argv);
    }
    ck_assert_int_eq(rc, 0);
    /* the description's placeholder input (classify replaces it per sample) */
    {
        float *z = calloc(32 * 784, sizeof(float));
        uint64_t sh[2] = {32, 784};
        norn_err e;
        char p[4200];
        snprintf(p, sizeof p, "%s/m/input.npy", dir);
        ck_assert_int_eq(norn_npy_write_f32(p, z, 2, sh, &e), NORN_OK);
        free(z);
    }
    snprintf(arg[1], sizeof arg[1], "%s/test_subset_images.npy", ex);
    snprintf(arg[2], sizeof arg[2], "%s/test_subset_labels.npy", ex);
    snprintf(arg[3], sizeof arg[3], "%s/test_subset_reference.npy", ex);
    rc = run_cli(dir, &out, &err, "DIR/m/model.yaml", "--images", arg[1], "--labels", arg[2], "--reference", arg[3],
                 "--div", "255", "--gain", "4", "-q", NULL);
    ck_assert_msg(rc == 0, "%s", err);
    /* PyTorch's accuracy on the subset, from its recorded predictions */
    norn_npy_array lab, ref;
    norn_err e;
    ck_assert_int_eq(norn_npy_read(arg[2], &lab, &e), NORN_OK);
    ck_assert_int_eq(norn_npy_read(arg[3], &ref, &e), NORN_OK);
    ck_assert_uint_eq(lab.count, 200);
    int right = 0;
    for (int k = 0; k < 200; k++)
        right += lab.data[k] == ref.data[k];
    char want[128];
    snprintf(want, sizeof want, "accuracy                %.4f (%d / 200)", right / 200.0, right);
    ck_assert_msg(strstr(out, want) != NULL, "%s\nwanted: %s", out, want);
    ck_assert_msg(right >= 180, "the committed network gets only %d of 200", right);
    ck_assert_msg(strstr(out, "1.0000 (200 / 200)") != NULL, "%s", out);
    norn_npy_array_free(&lab);
    norn_npy_array_free(&ref);
    free(out), free(err), out = err = NULL;
    /* the same straight from the NIR file (imported on the fly), and the
     * steps it then needs */
    rc = run_cli(dir, &out, &err, arg[0], "--steps", "32", "--images", arg[1], "--labels", arg[2], "--reference", arg[3],
                 "--div", "255", "--gain", "4", "-q", NULL);
    ck_assert_msg(rc == 0, "%s", err);
    ck_assert_msg(strstr(out, want) != NULL && strstr(out, "1.0000 (200 / 200)") != NULL, "%s", out);
    free(out), free(err), out = err = NULL;
    rc = run_cli(dir, &out, &err, arg[0], "--images", arg[1], NULL);
    ck_assert_int_eq(rc, 2);
    ck_assert_ptr_nonnull(strstr(err, "give the steps per sample with --steps T"));
    free(out);
    free(err);
}
END_TEST

static Suite *classify_suite(void)
{
    Suite *s = suite_create("classify");
    TCase *tc = tcase_create("classify");
    tcase_add_test(tc, equals_dense_forward);
    tcase_add_test(tc, labels_and_reference);
    tcase_add_test(tc, bad_input);
    tcase_add_test(tc, mnist_subset);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return tu_main(classify_suite()); }
