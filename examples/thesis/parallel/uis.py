# Listing 5.3 of the thesis: count "lorem" in the files of the UiS dataset.
# One change: the count goes to the working directory (the workflow workspace, shared by
# the jobs) instead of /home/jovyan, the Jupyter home of the thesis's pods.
import os

path = '/home/jovyan/uis'
files = []
for (dirpath, dirnames, filenames) in os.walk(path):
    for i in filenames:
        files.append(os.path.join(dirpath, i))
    break

count = 0
for i in files:
    f = open(i, 'r')
    for line in f:
        count += line.count('lorem')

f = open('uis-count.txt', 'a')
f.write('UiS: ' + str(count) + '\n')
f.close()
