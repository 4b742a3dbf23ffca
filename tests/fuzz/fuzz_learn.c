/* fuzz_learn — learned models on arbitrary bytes: the tokenizer and the
 * score on text that need not be valid UTF-8 (the engine only passes folded
 * text; the CLI passes whatever a file holds), and the model file reader on
 * arbitrary files. Text goes through both tokenizers (words, and words
 * with character n-grams) and both kinds of model. A score must stay in
 * [0, 1]; a load either succeeds or says why. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "raqib/learn.h"

static struct learn_model *model, *ngrams;   /* words only; with n-grams */
static char path[64];

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    static const char *pos[] = { "cheap pills call now", "قرض سريع اتصل الان 0551234567" };
    static const char *neg[] = { "great article thanks", "مقال ممتاز شكرا للكاتب" };
    model = learn_model_new();
    ngrams = learn_model_new();
    if (!model || !ngrams || learn_model_set_tokens(ngrams, LEARN_TOKENS_CHARS) < 0)
        return 1;
    for (int i = 0; i < 2; i++) {
        learn_model_add(model, pos[i], strlen(pos[i]), 1);
        learn_model_add(model, neg[i], strlen(neg[i]), 0);
        learn_model_add(ngrams, pos[i], strlen(pos[i]), 1);
        learn_model_add(ngrams, neg[i], strlen(neg[i]), 0);
    }
    snprintf(path, sizeof path, "/tmp/fuzz-learn-%ld.model", (long)getpid());
    return 0;
}

static int count(uint64_t hash, void *arg)
{
    if (!hash)
        abort();   /* 0 marks an empty slot: no token may hash to it */
    ++*(size_t *)arg;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    /* Exactly the bytes after the first, no terminator. */
    size_t n = size - 1;
    char *text = malloc(n ? n : 1);
    if (!text)
        return 0;
    memcpy(text, data + 1, n);
    if (data[0] & 1) {
        size_t tokens = 0;
        learn_tokens(text, n, count, &tokens);
        learn_tokens_of(text, n, LEARN_TOKENS_CHARS, count, &tokens);
        double p = learn_model_score(model, text, n), q = learn_model_score(ngrams, text, n);
        if (!(p >= 0.0 && p <= 1.0) || !(q >= 0.0 && q <= 1.0))
            abort();
    } else {
        FILE *f = fopen(path, "w");
        if (f) {
            fwrite(text, 1, n, f);
            fclose(f);
            char err[512] = "";
            struct learn_model *m = learn_model_load(path, err, sizeof err);
            if (!m && !err[0])
                abort();   /* a refusal must say why */
            if (m) {
                double p = learn_model_score(m, "cheap pills", 11);
                if (!(p >= 0.0 && p <= 1.0))
                    abort();
            }
            learn_model_free(m);
            unlink(path);
        }
    }
    free(text);
    return 0;
}
