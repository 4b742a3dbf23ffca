/* learned_scores.c — every learned model's score, to the last bit, on every
 * comment of a JSONL file (its "text"), for `make verdicts`: built once with
 * this tree's objects and once with VERDICTS_BASE's, the two outputs must be
 * identical. A verdict only shows a score that crosses a rule's threshold;
 * this shows any change in the arithmetic or the order it runs in.
 *
 *   learned_scores MODEL... < comments.jsonl
 *
 * Per comment and model: the score alone, and with a site's counts (live
 * learning) made of every third comment before it, as %a; built with
 * LEARNED_SCORES_JOINT (both trees have joint indexes), every 250th comment
 * also through a joint index of the model and those counts, as a moderating
 * site scores once the learner's indexer has run. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "raqib/learn.h"
#include "raqib/normalize.h"

#define MAX_MODELS 8

#ifdef LEARNED_SCORES_JOINT
/* The score through a joint index built for this very comment. */
static double joint_score(const struct learn_model *m, const struct learn_model *site, const char *s, size_t len)
{
    struct learn_model *joint = learn_model_joint_index(m, site);
    struct learn_text t;
    learn_text_list(&t, s, len, learn_model_get_tokens(m));
    double p = learn_text_score_joint(&t, m, site, joint);
    learn_text_free(&t);
    learn_model_free(joint);
    return p;
}
#endif

int main(int argc, char **argv)
{
    struct learn_model *model[MAX_MODELS], *site[MAX_MODELS];
    int n = argc - 1;
    if (n < 1 || n > MAX_MODELS) {
        fprintf(stderr, "usage: learned_scores MODEL... < comments.jsonl\n");
        return 2;
    }
    for (int i = 0; i < n; i++) {
        char err[512];
        if (!(model[i] = learn_model_load(argv[i + 1], err, sizeof err))) {
            fprintf(stderr, "%s\n", err);
            return 1;
        }
        if (!(site[i] = learn_model_new()) || learn_model_set_tokens(site[i], learn_model_get_tokens(model[i])) < 0)
            return 1;
    }
    char *line = NULL;
    size_t cap = 0;
    long k = 0;
    while (getline(&line, &cap, stdin) > 0) {
        json_t *doc = json_loads(line, 0, NULL);
        const char *text = json_string_value(json_object_get(doc, "text"));
        struct norm_text nt;
        if (text && norm_text_build_views(&nt, text, strlen(text), 1, 1u << VIEW_NORM) == 0) {
            const char *s = nt.view[VIEW_NORM];
            size_t len = nt.len[VIEW_NORM];
            for (int i = 0; i < n; i++) {
                printf("%ld %d %a %a\n", k, i, learn_model_score(model[i], s, len),
                       learn_model_score_site(model[i], site[i], s, len));
#ifdef LEARNED_SCORES_JOINT
                if (k % 250 == 0)
                    printf("%ld %d joint %a\n", k, i, joint_score(model[i], site[i], s, len));
#endif
                uint64_t *tokens;
                long m = k % 3 == 0 ? learn_doc_tokens(learn_model_get_tokens(model[i]), s, len, &tokens) : -1;
                if (m >= 0) {
                    learn_model_apply(site[i], tokens, (size_t)m, (int)(k / 3 % 2), 1, 0);
                    free(tokens);
                }
            }
            norm_text_free(&nt);
        }
        json_decref(doc);
        k++;
    }
    free(line);
    for (int i = 0; i < n; i++) {
        learn_model_free(model[i]);
        learn_model_free(site[i]);
    }
    return 0;
}
