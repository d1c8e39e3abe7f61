#!/bin/sh
# tiny_csv.sh ROWS SEED: prints a data set of the shape of the tests' tiny.csv (4 features, label y
# in 3 classes, the feature of the label shifted by 2), for the shell tests that need one.
awk -v n="$1" -v seed="$2" 'BEGIN { srand(seed); print "x1,x2,x3,x4,y";
  for (i = 0; i < n; i++) { y = int(rand() * 3); line = "";
    for (k = 0; k < 4; k++) line = line sprintf("%.6f,", (k == y ? 2 : 0) + rand() - 0.5);
    print line y } }'
