# The built-in simulated source (CONNECT_SOURCE=simulator): its glucose and
# pump model (simulator_model.c) and documents (simulator_docs.c) apart from
# the glue (simulator.c).
NSC_SIMULATOR_SOURCES = \
	src/sources/simulator/simulator.c src/sources/simulator/simulator.h \
	src/sources/simulator/simulator_model.c src/sources/simulator/simulator_model.h \
	src/sources/simulator/simulator_docs.c src/sources/simulator/simulator_docs.h
