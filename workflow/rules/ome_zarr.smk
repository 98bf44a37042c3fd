# output_format: ome-zarr (off by default): the raw image and its labels as
# one OME-Zarr group, for napari's OME-Zarr plugin.
rule ome_zarr:
    input:
        image=source_image,
        labels="results/label/{image}.tif",
    output:
        zarr=directory("results/ome-zarr/{image}.zarr"),
    log:
        "logs/ome_zarr/{image}.log",
    group:
        "per_image"
    threads: 1
    resources:
        mem_mb=RESOURCES.mem_mb("ome_zarr"),
        runtime=RESOURCES.runtime_min(),
    params:
        reading=image_reading,
        source=source_image,
        image_id="{image}",
    run:
        from scripts import export

        run_job(export.run, input, output, params, log)
