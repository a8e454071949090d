# Listing 5.4 of the thesis: combine the counts of the parallel jobs into result.txt.
# Changes: result.txt goes to the working directory (the workflow workspace) instead of
# /home/jovyan, lines are kept as they are (the thesis added a blank line after each), and
# a last line adds up the counts.
files = ['uis-count.txt', 'uio-count.txt', 'uib-count.txt']

result = ''
total = 0
for i in files:
    f = open(i, 'r')
    for line in f:
        result += line
        total += int(line.rsplit(':', 1)[1])

f = open('result.txt', 'a')
f.write(result + 'Total: ' + str(total) + '\n')
f.close()
