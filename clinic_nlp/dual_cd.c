/*
 * Dual coordinate descent for the L2-regularised, L2-loss (squared hinge) linear SVM: the
 * problem and the algorithm of liblinear's solve_l2r_l1l2_svc, which scikit-learn's LinearSVC
 * runs (Hsieh et al., "A dual coordinate descent method for large-scale linear SVM", ICML 2008),
 * written again here for one thing liblinear cannot do: start from given dual variables.
 *
 *   min_alpha  0.5 alpha' (Q + D) alpha - e' alpha,  alpha_i >= 0,
 *   Q_ij = y_i y_j x_i' x_j,  D_ii = 1 / (2 C_i),  w = sum_i y_i alpha_i x_i.
 *
 * The solution depends only on the problem, not on the starting point, so a retraining after a
 * few examples changed can start from the last training's alphas (a new example's at 0) and
 * stop after a few passes instead of forty. Rows are CSR (scipy's arrays, no copy); the
 * intercept is one more weight on a constant feature `bias`, regularised like the others, as
 * liblinear does. Called from clinic_nlp/dual_svm.py through ctypes, which releases Python's
 * lock for the call, so two problems solve on two cores at once.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static uint64_t next_random(uint64_t *state) {
    /* xorshift64*: a fixed sequence for a given seed, so a training is reproducible. */
    uint64_t x = *state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    return x * 0x2545F4914F6CDD1DULL;
}

/* Returns the number of passes made, or -1 when memory ran out. */
int dual_cd_l2svc(int n_rows, int n_cols, const int32_t *indptr, const int32_t *indices,
                  const double *data, const signed char *y, const double *cost, double bias,
                  double eps, int max_iter, uint64_t seed, double *alpha, double *w) {
    double *qd = malloc(sizeof(double) * (size_t)(n_rows > 0 ? n_rows : 1));
    double *diag = malloc(sizeof(double) * (size_t)(n_rows > 0 ? n_rows : 1));
    int *index = malloc(sizeof(int) * (size_t)(n_rows > 0 ? n_rows : 1));
    if (qd == NULL || diag == NULL || index == NULL) {
        free(qd);
        free(diag);
        free(index);
        return -1;
    }
    uint64_t state = seed ? seed : 0x9E3779B97F4A7C15ULL;
    double *w_bias = w + n_cols; /* the intercept's weight, after the features' */
    memset(w, 0, sizeof(double) * (size_t)(n_cols + 1));
    for (int i = 0; i < n_rows; i++) {
        double norm = bias * bias;
        for (int32_t k = indptr[i]; k < indptr[i + 1]; k++) {
            norm += data[k] * data[k];
        }
        diag[i] = 0.5 / cost[i];
        qd[i] = norm + diag[i];
        if (alpha[i] < 0) {
            alpha[i] = 0;
        }
        if (alpha[i] != 0) {
            double step = y[i] * alpha[i];
            for (int32_t k = indptr[i]; k < indptr[i + 1]; k++) {
                w[indices[k]] += step * data[k];
            }
            *w_bias += step * bias;
        }
        index[i] = i;
    }

    int active = n_rows;
    /* Only the lower bound (alpha >= 0) can shrink: the squared hinge has no upper bound. */
    double pg_max_old = HUGE_VAL;
    int iter = 0;
    while (iter < max_iter) {
        double pg_max_new = -HUGE_VAL, pg_min_new = HUGE_VAL;
        for (int i = 0; i < active; i++) {
            int j = i + (int)(next_random(&state) % (uint64_t)(active - i));
            int t = index[i];
            index[i] = index[j];
            index[j] = t;
        }
        for (int s = 0; s < active; s++) {
            int i = index[s];
            double dot = *w_bias * bias;
            for (int32_t k = indptr[i]; k < indptr[i + 1]; k++) {
                dot += w[indices[k]] * data[k];
            }
            double g = y[i] * dot - 1.0 + alpha[i] * diag[i];
            double pg = 0.0;
            if (alpha[i] == 0.0) {
                if (g > pg_max_old) { /* shrink: this alpha stays at its bound */
                    active--;
                    int t = index[s];
                    index[s] = index[active];
                    index[active] = t;
                    s--;
                    continue;
                }
                if (g < 0.0) {
                    pg = g;
                }
            } else {
                pg = g;
            }
            if (pg > pg_max_new) pg_max_new = pg;
            if (pg < pg_min_new) pg_min_new = pg;
            if (fabs(pg) > 1.0e-12) {
                double old = alpha[i];
                alpha[i] = fmax(old - g / qd[i], 0.0);
                double step = (alpha[i] - old) * y[i];
                for (int32_t k = indptr[i]; k < indptr[i + 1]; k++) {
                    w[indices[k]] += step * data[k];
                }
                *w_bias += step * bias;
            }
        }
        iter++;
        if (pg_max_new - pg_min_new <= eps) {
            if (active == n_rows) {
                break;
            }
            active = n_rows; /* check every example once more before stopping */
            pg_max_old = HUGE_VAL;
            continue;
        }
        pg_max_old = pg_max_new;
        if (pg_max_old <= 0) pg_max_old = HUGE_VAL;
    }
    free(qd);
    free(diag);
    free(index);
    return iter;
}
